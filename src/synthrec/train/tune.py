"""Tuning more than the head (the paper's Table 3 and Table 6 ablations, METHOD.md §2.6 and §3.5).

The paper tunes only the classifier: cached features, a linear head. ``train.tune`` also tunes the image encoder's
last block (``last_block``) or all of it (``image_encoder``), which needs the images themselves in every step, not
cached features. The same loss, schedule and optimiser as :func:`train_head`; the encoder's parameters share the
head's lr, as in the authors' code (one AdamW group over every parameter left trainable), unless
``train.encoder_lr`` sets their own. SCE's teacher is the initial model: the zero-shot head on the initial
encoder's features.

BatchNorm: with ``train.freeze_bn`` (default) every BN layer keeps its running statistics (eval mode), as the
authors' ``freeze_BN()``; its affine weights are still tuned when they lie in the tuned part. Without it the BN
layers of the tuned part use batch statistics and update their running ones. The part that is not tuned is always
in eval mode: frozen weights with moving statistics would still change the features.

The tuned image tower is saved beside the head (``image_tower.safetensors``); :func:`tuned_encoder` loads it into a
copy of the encoder, whose fingerprint changes with the weights, so cached test features never mix.
"""
from __future__ import annotations

import copy
import logging
import math
import time
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn as nn

from .. import _io
from ..config.schema import TrainConfig
from ..errors import DataError
from ..devices import resolve_device
from .head import ClassifierHead
from .loop import epoch_batches, fit
from .loss import soft_target_loss_from_probs, soft_targets
from .schedule import decay_only_factor
from .trainer import TrainResult

log = logging.getLogger(__name__)
TOWER_FILE = "image_tower.safetensors"
TUNE_CHOICES = ("head", "last_block", "image_encoder")
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)

PixelSource = Callable[[Sequence[int]], torch.Tensor]  # image indices -> preprocessed pixels (B, C, H, W)


class TunedModel(nn.Module):
    """Image tower + head; only the ``scope`` part of the tower (and the head) requires grad."""

    def __init__(self, tower, module: nn.Module, head: ClassifierHead, scope: str, freeze_bn: bool):
        super().__init__()
        self.tower = module
        self.head = head
        self.linear = head.linear  # what fit() reads as the class weights
        self._forward = tower.forward
        self.freeze_bn = freeze_bn
        self.tuned = tuned_parts(tower, module, scope)
        tuned_params = {id(p) for part in self.tuned for p in _params(part)}
        for p in module.parameters():
            p.requires_grad_(id(p) in tuned_params)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode:
            self.tower.eval()
            for part in self.tuned:
                if isinstance(part, nn.Module):
                    part.train()
            if self.freeze_bn:
                for m in self.tower.modules():
                    if isinstance(m, _BN):
                        m.eval()
        return self

    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._forward(self.tower, pixels)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(pixels).float())


def _params(part) -> list[nn.Parameter]:
    return list(part.parameters()) if isinstance(part, nn.Module) else [part]


def tuned_parts(tower, module: nn.Module, scope: str) -> list:
    """The submodules (or bare parameters) of ``module`` that ``scope`` tunes."""
    if scope not in TUNE_CHOICES:
        raise ValueError(f"unknown tune scope {scope!r}; use one of {TUNE_CHOICES}")
    if scope == "head":
        return []
    if scope == "image_encoder":
        return [module]
    parts = []
    for name in tower.last_block:
        try:
            parts.append(module.get_submodule(name))
        except AttributeError:
            parts.append(module.get_parameter(name))
    return parts


def tuned_share(model: TunedModel) -> float:
    """Share of the image tower's + head's parameters that are tuned (the paper's "Param. tuned (%)" / 100)."""
    total = sum(p.numel() for p in model.tower.parameters()) + sum(p.numel() for p in model.head.parameters())
    tuned = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return tuned / total


def train_tuned(encoder, pixels: PixelSource, labels: Sequence[int] | torch.Tensor, init_weights: torch.Tensor,
                cfg: TrainConfig, seed: int, *, head_meta: dict | None = None, progress: bool = True) -> TrainResult:
    """Tune the head and ``cfg.tune`` of ``encoder``'s image tower on images; ``pixels(idx)`` loads a batch.

    ``result.meta["image_tower"]`` holds the tuned tower's state dict (CPU tensors); :meth:`TrainResult.save` does
    not write it: use :func:`save_tuned`.
    """
    y = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    n, k = len(y), init_weights.shape[0]
    if n == 0:
        raise DataError("no training images are left", "generate more images or loosen the filter")
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise DataError(f"labels must lie in [0, {k}), found {int(y.min())}..{int(y.max())}",
                        "use class ids of the label space the head was built for")
    device = resolve_device(cfg.device)
    tower = encoder.image_tower()
    # A float32 copy: the encoder stays as it is (fp16 on CUDA, cached features valid), AdamW needs fp32 weights.
    module = copy.deepcopy(tower.module).float().to(device)
    head = ClassifierHead.from_weights(init_weights, meta=head_meta).to(device)
    model = TunedModel(tower, module, head, cfg.tune, cfg.freeze_bn).to(device)
    if cfg.tune != "head" and not any(isinstance(m, _BN) for m in module.modules()):
        log.info("train: %s has no BatchNorm layers; train.freeze_bn changes nothing", encoder.encoder_id)
    share = tuned_share(model)
    y = y.to(device)
    bs = cfg.batch_size
    steps_per_epoch = math.ceil(n / bs)
    total = cfg.epochs * steps_per_epoch
    factor = decay_only_factor(total, cfg.lr, cfg.weight_decay, cfg.warmup_steps)
    log.info("tuning %s (%.2f%% of the parameters): %d images, %d classes, %d epochs x %d steps on %s", cfg.tune,
             100 * share, n, k, cfg.epochs, steps_per_epoch, device)

    def load(idx: torch.Tensor) -> torch.Tensor:
        return pixels(idx.tolist()).to(device, torch.float32)

    q_all = None
    if cfg.sce_weight > 0:
        model.eval()
        with torch.no_grad():  # the teacher: the initial encoder and the zero-shot head, once per image
            q_all = torch.cat([soft_targets(model(load(idx)), cfg.temperature)
                               for idx in torch.arange(n).split(bs)])
    generator = torch.Generator().manual_seed(int(seed))
    initial_norm = float(head.linear.weight.detach().norm(dim=-1).mean().item())

    def loss_fn(idx: torch.Tensor):
        logits = model(load(idx))
        q = q_all[idx.to(q_all.device)] if q_all is not None else None
        return soft_target_loss_from_probs(logits, q, y[idx.to(device)], cfg.sce_weight), len(idx)

    encoder_lr_scale = (cfg.encoder_lr or cfg.lr) / cfg.lr
    t0 = time.perf_counter()
    curve = fit(model, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch,
                batches=lambda epoch: epoch_batches(n, bs, generator), loss_fn=loss_fn, lr=cfg.lr,
                weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_steps, grad_clip=cfg.grad_clip,
                progress=progress, desc=f"tuning {cfg.tune}", lr_scales={"tower.": encoder_lr_scale})
    seconds = time.perf_counter() - t0
    state = {name: t.detach().cpu().contiguous() for name, t in module.state_dict().items()}
    return TrainResult(head=head.cpu(), curve=curve, config=cfg.model_dump(mode="json"), seed=int(seed),
                       n_per_class=torch.bincount(y.cpu(), minlength=k).tolist(), steps=total,
                       steps_per_epoch=steps_per_epoch, decay_only_factor=factor, device=str(device),
                       seconds=seconds, meta={"initial_weight_norm": initial_norm, "tuned_share": share,
                                              "image_tower": state})


def pixels_from_loaders(encoder, loaders: Sequence[Callable[[], object]], memory_limit: int = 1 << 30
                        ) -> PixelSource:
    """A :data:`PixelSource` over zero-argument image loaders, preprocessed by ``encoder``. Every epoch reads every
    image, so preprocessed pixels are kept in memory when all of them fit in ``memory_limit`` bytes."""
    cache: dict[int, torch.Tensor] = {}
    keep: list[bool] = []

    def one(i: int) -> torch.Tensor:
        if i in cache:
            return cache[i]
        x = encoder.preprocess(loaders[i]())
        if not keep:
            keep.append(x.numel() * x.element_size() * len(loaders) <= memory_limit)
        if keep[0]:
            cache[i] = x
        return x

    return lambda idx: torch.stack([one(int(i)) for i in idx])


def save_tuned(result: TrainResult, folder: str | Path) -> None:
    """The head and ``train.json`` (as :meth:`TrainResult.save`) plus the tuned image tower."""
    state = result.meta.pop("image_tower", None)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if state is not None:
        _io.write_safetensors(folder / TOWER_FILE, state)
    result.save(folder)


def tuned_encoder(encoder, folder: str | Path):
    """``encoder`` with the image tower saved in ``folder`` (a copy; ``encoder`` is unchanged), or ``encoder``
    itself when the folder holds none (a head-only run)."""
    from safetensors.torch import load_file

    path = Path(folder) / TOWER_FILE
    if not path.is_file():
        return encoder
    state = load_file(str(path))
    tuned = copy.copy(encoder)
    tower = encoder.image_tower()
    module = copy.deepcopy(tower.module)
    dtype = next(module.parameters()).dtype
    try:
        module.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError as exc:
        raise DataError(f"{path} does not fit encoder {encoder.encoder_id!r} ({str(exc).splitlines()[0]})",
                        "evaluate with the encoder the run was trained with, or train again") from None
    _swap_tower(tuned, tower.module, module)
    tuned.fingerprint = _io.stable_hash({"base": encoder.fingerprint, "tuned_tower": _io.sha256_file(path)})
    tuned.encoder_id = f"{encoder.encoder_id} (tuned: {Path(folder).name})"
    return tuned


def _swap_tower(tuned, old: nn.Module, new: nn.Module) -> None:
    """Point the shallow copy ``tuned`` at a model whose image tower is ``new`` (the original keeps ``old``)."""
    model = copy.copy(tuned.model)
    model._modules = dict(model._modules)
    for name, child in list(model._modules.items()):
        if child is old:
            model._modules[name] = new
            break
    else:  # HF CLIP: the tower is a ModuleDict over two children of the model
        if isinstance(new, nn.ModuleDict):
            for name in new:
                model._modules[name] = new[name]
        else:
            raise RuntimeError("cannot find the image tower inside the encoder's model")
    tuned.model = model
