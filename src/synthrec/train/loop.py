"""Training-loop pieces shared by the zero-shot trainer and the few-shot mix trainer.

``fit`` owns what every head-tuning run does the same way: AdamW, the per-step cosine schedule, backward, gradient
clipping and the per-epoch curve. A trainer supplies the batches of an epoch and the loss of one batch, e.g. the
mix trainer yields (synthetic, real) index pairs and sums CE(real) + soft_target_loss(synthetic).
"""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

import torch
import torch.nn as nn

from .schedule import cosine_lr

log = logging.getLogger(__name__)
Batch = TypeVar("Batch")
ADAMW_BETAS = (0.9, 0.999)
ADAMW_EPS = 1e-8


def make_optimizer(module: nn.Module, lr: float, weight_decay: float,
                   lr_scales: dict[str, float] | None = None) -> torch.optim.AdamW:
    """AdamW as in the authors' code: one group, so decay acts on the weight *and* the bias (METHOD.md §2.5).

    ``lr_scales`` maps a parameter-name prefix to a factor on the lr (a group of its own, e.g. an image encoder
    tuned with the head at a smaller lr); every other trainable parameter is in the main group.
    """
    groups: dict[float, list[nn.Parameter]] = {}
    for name, p in module.named_parameters():
        if p.requires_grad:
            scale = next((f for prefix, f in (lr_scales or {}).items() if name.startswith(prefix)), 1.0)
            groups.setdefault(scale, []).append(p)
    param_groups = [{"params": ps, "lr": lr * scale, "lr_scale": scale} for scale, ps in groups.items()]
    return torch.optim.AdamW(param_groups, lr=lr, betas=ADAMW_BETAS, eps=ADAMW_EPS, weight_decay=weight_decay)


def frozen_copy(module: nn.Module) -> nn.Module:
    """The SCE teacher: a copy of the initial head, in eval mode and outside any optimiser."""
    teacher = copy.deepcopy(module).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def epoch_batches(n: int, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu"):
    """Index batches of one epoch from a seeded permutation; the last batch may be short (no sample dropped).

    The permutation is drawn on the CPU so the same seed shuffles alike on every device.
    """
    perm = torch.randperm(n, generator=generator)
    return [idx.to(device) for idx in perm.split(batch_size)]


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


@dataclass
class EpochRecord:
    epoch: int
    loss: float
    lr_start: float
    lr_end: float
    weight_norm: float  # mean L2 norm of the head's class rows: the effective logit scale
    seconds: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def fit(head: nn.Module, *, epochs: int, steps_per_epoch: int, batches: Callable[[int], Iterable[Batch]],
        loss_fn: Callable[[Batch], tuple[torch.Tensor, int]], lr: float, weight_decay: float,
        warmup_steps: int = 0, grad_clip: float | None = 1.0, progress: bool = True,
        desc: str = "training head", lr_scales: dict[str, float] | None = None) -> list[EpochRecord]:
    """Train ``head`` in place for ``epochs`` and return the per-epoch curve; the model left is the final epoch's.

    ``batches(epoch)`` yields the epoch's batches (exactly ``steps_per_epoch`` of them, which the schedule is
    computed from); ``loss_fn(batch)`` returns (mean loss, number of samples it covers).
    """
    from tqdm.auto import tqdm

    optimizer = make_optimizer(head, lr, weight_decay, lr_scales)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    total = epochs * steps_per_epoch
    weight = _class_weight(head)
    curve: list[EpochRecord] = []
    step = 0
    head.train()
    bar = tqdm(range(epochs), desc=desc, unit="epoch", disable=not progress or None, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        lr_start = cosine_lr(step, total, lr, warmup_steps)
        loss_sum = torch.zeros((), device=weight.device)
        n_seen = 0
        for batch in batches(epoch):
            if step >= total:
                raise RuntimeError(f"batches({epoch}) yielded more than steps_per_epoch={steps_per_epoch} batches")
            set_lr(optimizer, cosine_lr(step, total, lr, warmup_steps))
            loss, n = loss_fn(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            loss_sum += loss.detach() * n  # stays on the device: one sync per epoch, not per step
            n_seen += n
            step += 1
        mean_loss = float(loss_sum.item()) / max(1, n_seen)
        curve.append(EpochRecord(epoch=epoch + 1, loss=mean_loss, lr_start=lr_start,
                                 lr_end=cosine_lr(step - 1, total, lr, warmup_steps),
                                 weight_norm=float(weight.detach().norm(dim=-1).mean().item()),
                                 seconds=time.perf_counter() - t0))
        bar.set_postfix(loss=f"{mean_loss:.4f}")
    head.eval()
    return curve


def _class_weight(head: nn.Module) -> torch.Tensor:
    linear = getattr(head, "linear", None)
    if isinstance(linear, nn.Linear):
        return linear.weight
    return next(p for p in head.parameters() if p.dim() == 2)
