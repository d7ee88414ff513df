"""LoRA on the generator, trained on real shots with their class prompts (DataDream, ECCV 2024).

Through diffusers' and peft's own LoRA support: ``unet.add_adapter(LoraConfig(...))`` on the UNet's attention and
projection layers (and optionally the text encoder's attention), saved with ``save_lora_weights``'s layout (keys
``unet.*`` / ``text_encoder.*`` and peft's ``lora_adapter_metadata`` header), so plain diffusers loads the file:

    pipe.load_lora_weights(folder, weight_name="lora.safetensors")

The trained pipeline is the caller's, changed only while training: the adapter is deleted afterwards.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from ..errors import AdapterError, ConfigError
from ._backbone import Backbone, base_fingerprint
from ._loop import train_steps
from .files import check_adapter, write_adapter

log = logging.getLogger("synthrec")

KIND = "lora"
TRAIN_ADAPTER = "synthrec_train"
# Attention, the transformer blocks' projections, and the embedding projections into every ResNet block (the glyph
# UNet's prompt enters mostly there, through its projection class embedding). Names missing from a UNet are skipped.
UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2",
                "time_emb_proj", "class_embedding.linear_1", "class_embedding.linear_2")
TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 4
    alpha: float | None = None          # None: alpha = rank (scale 1)
    steps: int = 200
    lr: float = 1e-4
    batch_size: int = 8
    text_encoder: bool = False
    unet_targets: tuple[str, ...] = field(default=UNET_TARGETS)

    def __post_init__(self):
        if self.rank < 1 or self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError(f"LoRA settings {self.to_json()} have a non-positive rank, steps, batch size or lr",
                              "use positive values")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["unet_targets"] = list(self.unet_targets)
        return d


def _present(module: torch.nn.Module, targets: Sequence[str]) -> list[str]:
    names = [n for n, _ in module.named_modules()]
    return [t for t in targets if any(n == t or n.endswith("." + t) for n in names)]


def train_lora(pipe, images: Sequence[Any], prompts: Sequence[str], path: str | Path, *, settings: LoraSettings,
               seed: int, key: str = "", desc: str = "LoRA", progress: bool = False, extra_info: dict | None = None
               ) -> Path:
    """Train one LoRA on (image, prompt) pairs and write it to ``path`` (``*.safetensors``); returns the path.

    ``key`` is the caller's content key (shots, base model, settings), stored in the header for reuse.
    """
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    if len(images) != len(prompts) or not images:
        raise ValueError(f"{len(images)} images for {len(prompts)} prompts; give one prompt per image, at least one")
    backbone = Backbone.for_pipeline(pipe)
    base = base_fingerprint(pipe)
    unet = backbone.unet
    text_encoder = getattr(backbone, "text_encoder", None) if settings.text_encoder else None
    if settings.text_encoder and text_encoder is None:
        raise ConfigError(f"{type(pipe).__name__} has no trainable text encoder for LoRA",
                          "set the LoRA text_encoder option to false (the glyph world's MiniLM encoder is frozen)")
    targets = _present(unet, settings.unet_targets)
    if not targets:
        raise ConfigError(f"none of the LoRA targets {list(settings.unet_targets)} is a layer of the UNet",
                          "name attention or projection layers, e.g. to_q, to_k, to_v, to_out.0")
    alpha = settings.alpha if settings.alpha is not None else settings.rank
    modules = [m for m in (unet, text_encoder) if m is not None]
    grad_before = [{n: p.requires_grad for n, p in m.named_parameters()} for m in modules]
    for m in modules:
        m.requires_grad_(False)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))  # peft's gaussian init of lora_A draws from the global generator
            unet.add_adapter(LoraConfig(r=settings.rank, lora_alpha=alpha, init_lora_weights="gaussian",
                                        target_modules=targets), adapter_name=TRAIN_ADAPTER)
            unet.set_adapters(TRAIN_ADAPTER)
            if text_encoder is not None:
                _add_text_adapter(text_encoder, LoraConfig(r=settings.rank, lora_alpha=alpha,
                                                           init_lora_weights="gaussian",
                                                           target_modules=list(TEXT_TARGETS)))
        params = [p for m in modules for n, p in m.named_parameters() if "lora_" in n]
        for p in params:
            p.requires_grad_(True)
            p.data = p.data.float()  # fp32 adapter weights on an fp16 base (diffusers' cast_training_params)
        latents = backbone.latents(list(images), torch.Generator().manual_seed(int(seed) + 1))
        if text_encoder is not None:
            text_encoder.train()
        stats = train_steps(backbone, latents, list(prompts), params, steps=settings.steps, lr=settings.lr,
                            batch_size=settings.batch_size, seed=seed, condition=backbone.condition, desc=desc,
                            progress=progress, weight_decay=1e-2)
        if text_encoder is not None:
            text_encoder.eval()
        # peft's own key names (lora_A/lora_B), which diffusers' loader reads as they are.
        tensors = {f"unet.{k}": v for k, v in get_peft_model_state_dict(unet, adapter_name=TRAIN_ADAPTER).items()}
        peft_meta = {f"unet.{k}": v for k, v in _config_json(unet.peft_config[TRAIN_ADAPTER]).items()}
        if text_encoder is not None:
            te = get_peft_model_state_dict(text_encoder, adapter_name=TRAIN_ADAPTER)
            tensors.update({f"text_encoder.{k}": v for k, v in te.items()})
            peft_meta.update({f"text_encoder.{k}": v
                              for k, v in _config_json(text_encoder.peft_config[TRAIN_ADAPTER]).items()})
    finally:
        _remove(unet, text_encoder)
        for m, before in zip(modules, grad_before):
            for n, p in m.named_parameters():
                if n in before:
                    p.requires_grad_(before[n])
    info = {"kind": KIND, "base_model": base, "key": key, "settings": settings.to_json(), "seed": int(seed),
            "images": len(images), "prompts": sorted(set(prompts)), "train": stats, **(extra_info or {})}
    from diffusers.loaders.lora_base import LORA_ADAPTER_METADATA_KEY

    # The header entry diffusers' own save_lora_weights writes, so load_lora_weights rebuilds this LoraConfig exactly.
    meta = {LORA_ADAPTER_METADATA_KEY: json.dumps(peft_meta, indent=2, sort_keys=True)}
    log.info("LoRA %s: %d steps in %.1f s, last loss %s", Path(path).name, settings.steps, stats["seconds"],
             stats["history"][-1]["loss"] if stats["history"] else "-")
    return write_adapter(path, tensors, info, meta)


def _add_text_adapter(text_encoder, config) -> None:
    try:
        text_encoder.add_adapter(config, adapter_name=TRAIN_ADAPTER)
    except ValueError as exc:
        if "PEFT" not in str(exc):
            raise
        # transformers' PEFT integration can demand a newer peft than the one installed; diffusers' loader goes
        # through the same check, so a text-encoder LoRA could not be loaded back either.
        raise ConfigError(f"LoRA on the text encoder is not available with this transformers/peft pair "
                          f"({' '.join(str(exc).split())[:120]})",
                          "set the LoRA text_encoder option to false, or install a peft that transformers accepts"
                          ) from None


def _config_json(config) -> dict:
    d = config.to_dict()
    return {k: (sorted(v) if isinstance(v, set) else v) for k, v in d.items()}


def _remove(unet, text_encoder) -> None:
    """Take the training adapter out again; when it was the only one, unwrap peft's layers too, so the pipeline's
    modules (and anything saved from them) are exactly the base model's."""
    from diffusers.utils import recurse_remove_peft_layers

    for module, delete in ((unet, "delete_adapters"), (text_encoder, "delete_adapter")):
        configs = getattr(module, "peft_config", None) or {}
        if module is None or TRAIN_ADAPTER not in configs:
            continue
        if set(configs) == {TRAIN_ADAPTER}:
            recurse_remove_peft_layers(module)
            del module.peft_config
            if hasattr(module, "_hf_peft_config_loaded"):
                module._hf_peft_config_loaded = None
        else:
            getattr(module, delete)(TRAIN_ADAPTER)


def load_lora(pipe, path: str | Path, adapter_name: str) -> dict:
    """Load a synthrec LoRA into ``pipe`` under ``adapter_name`` with diffusers' ``load_lora_weights``, after
    checking its header; returns the header. A bad file or one for another base model is one ``AdapterError``."""
    path = Path(path)
    info = check_adapter(path, kind=KIND, base_model=base_fingerprint(pipe))
    if not hasattr(pipe, "load_lora_weights"):
        raise AdapterError(f"{type(pipe).__name__} cannot load LoRA weights",
                           "use a Stable Diffusion pipeline or the glyph pipeline for the lora strategies")
    try:
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=adapter_name)
    except Exception as exc:  # diffusers/peft raise ValueError, RuntimeError (shapes), KeyError for foreign files
        raise AdapterError(f"LoRA {path} does not fit {type(pipe).__name__} ({' '.join(str(exc).split())[:160]})",
                           "use the generator it was trained on, or delete it so the next run trains a new one"
                           ) from None
    return info
