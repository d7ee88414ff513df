"""timm backbones and transforms shared by the pre-training trainers and transfer.

Any ``timm.create_model`` name works; ``model_kwargs`` reach timm unchanged (tiny configs for tests and the glyph
world: ``{"img_size": 16, "patch_size": 4, "embed_dim": 64, "depth": 2, "num_heads": 2}``).
"""
from __future__ import annotations

import logging
from typing import Any

from ..errors import ConfigError
from .checkpoint import CheckpointError, load_checkpoint

log = logging.getLogger(__name__)


def create_model(name: str, num_classes: int, model_kwargs: dict[str, Any] | None = None):
    import timm

    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('_')[0]}*")[:5]
        hint = f"e.g. {', '.join(close)}" if close else "see timm.list_models()"
        raise ConfigError(f"unknown timm model {name!r}", f"use a timm.create_model name ({hint})")
    try:
        return timm.create_model(name, pretrained=False, num_classes=num_classes, **(model_kwargs or {}))
    except TypeError as exc:
        raise ConfigError(f"timm model {name!r} does not accept these model_kwargs ({exc})",
                          "drop or rename the offending key in model_kwargs") from None


def model_input(model) -> tuple[tuple[float, ...], tuple[float, ...]]:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return tuple(cfg.get("mean", (0.485, 0.456, 0.406))), tuple(cfg.get("std", (0.229, 0.224, 0.225)))


def train_transform(model, image_size: int, recipe):
    """timm's training transform (random resized crop, flip, optional RandAugment and random erasing)."""
    from timm.data import create_transform

    mean, std = model_input(model)
    if recipe.auto_augment:
        _allow_zero_bit_posterize()
    return create_transform(image_size, is_training=True, scale=tuple(recipe.scale), ratio=tuple(recipe.ratio),
                            hflip=recipe.hflip,
                            color_jitter=None, auto_augment=recipe.auto_augment, re_prob=recipe.reprob,
                            interpolation="bilinear", mean=mean, std=std)


def _posterize_keeping_bits(img, bits_to_keep, **kwargs):
    """Keep ``bits_to_keep`` most significant bits; 0 keeps none (a black image), as Pillow did before 13."""
    from PIL import Image, ImageOps

    if bits_to_keep >= 8:
        return img
    if bits_to_keep <= 0:
        return Image.new(img.mode, img.size)
    return ImageOps.posterize(img, bits_to_keep)


def _allow_zero_bit_posterize() -> None:
    """timm's RandAugment asks for 0 bits when the noisy magnitude reaches 10 (DeiT's rand-m9-mstd0.5-inc1 does),
    which Pillow 13 refuses with a ValueError mid-epoch; give timm's op table a posterize that accepts it."""
    from timm.data import auto_augment

    for name in ("Posterize", "PosterizeIncreasing", "PosterizeOriginal"):
        if name in auto_augment.NAME_TO_OP:
            auto_augment.NAME_TO_OP[name] = _posterize_keeping_bits


def eval_transform(model, image_size: int):
    from timm.data import create_transform

    mean, std = model_input(model)
    return create_transform(image_size, is_training=False, crop_pct=1.0, interpolation="bilinear", mean=mean,
                            std=std)


def load_weights_into(model, path, *, model_name: str, strict_backbone: bool = True) -> dict[str, Any]:
    """Load a checkpoint's backbone (or a plain timm safetensors state dict) into ``model``; the classifier head is
    kept as ``model`` has it (a new label space gets a fresh head). Returns the checkpoint's meta."""
    ckpt = load_checkpoint(path)
    made_by = ckpt.meta.get("model")
    if made_by is not None and made_by != model_name:
        raise CheckpointError(f"checkpoint {path} holds a {made_by!r} model but the config asks for {model_name!r}",
                              f"set model: {made_by} or pass a checkpoint of {model_name}")
    state = ckpt.model
    head_keys = _head_keys(model)
    own = model.state_dict()
    backbone = {k: v for k, v in state.items() if k not in head_keys}
    mismatched = [k for k, v in backbone.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    unknown = [k for k in backbone if k not in own]
    missing = [k for k in own if k not in head_keys and k not in backbone]
    if mismatched or unknown or (strict_backbone and missing):
        bad = (mismatched or unknown or missing)[0]
        raise CheckpointError(f"checkpoint {path} does not fit {model_name!r} (first bad tensor: {bad}; "
                              f"{len(mismatched)} of other shape, {len(unknown)} unknown, {len(missing)} missing)",
                              "pass a checkpoint of the same architecture and model_kwargs")
    model.load_state_dict(backbone, strict=False)
    return ckpt.meta


def _head_keys(model) -> set[str]:
    """State-dict keys of timm's classifier (what ``reset_classifier`` replaces)."""
    name = getattr(model, "default_cfg", {}).get("classifier") or "fc"
    names = [name] if isinstance(name, str) else list(name)
    return {k for k in model.state_dict() if any(k == n or k.startswith(n + ".") for n in names)}
