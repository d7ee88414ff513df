"""``create_encoder(spec)``: one grammar for every image-text encoder, dispatched on the spec's prefix.

    open_clip:<arch>/<tag>            open_clip:RN50/openai, open_clip:ViT-B-16/openai (the paper's models)
    open_clip:<arch>/<weights file>   a local open_clip state dict (use <arch>-quickgelu for OpenAI weights)
    open_clip:<folder>                open_clip_config.json + weights, as open_clip's local-dir: loads it
    hf:<hub id>[@revision]            hf:openai/clip-vit-base-patch32
    hf:<folder>                       written by save_pretrained (model + processor + tokenizer)
    glyph | glyph:<folder>            the glyph world's mini CLIP
"""
from __future__ import annotations

import logging
from typing import Callable

import torch

from ..._registry import Registry
from ...errors import ModelLoadError
from ...devices import resolve_device
from ._common import resolve_precision
from .base import ImageTextEncoder

log = logging.getLogger(__name__)

Loader = Callable[..., ImageTextEncoder]  # (target, *, spec, device, precision) -> encoder
ENCODERS: Registry[Loader] = Registry("encoder prefix")


def register_encoder(prefix: str) -> Callable[[Loader], Loader]:
    """Add a spec prefix; the loader gets the text after ``prefix:`` and keyword-only spec, device, precision."""
    return ENCODERS.register(prefix)


def list_encoder_prefixes() -> list[str]:
    return ENCODERS.list()


def create_encoder(spec: str, device: str | torch.device = "auto", precision: str = "auto") -> ImageTextEncoder:
    """Build the encoder a spec names: fp16 on CUDA and fp32 on CPU by default; features come back float32 on CPU."""
    spec = (spec or "").strip()
    prefix, _, target = spec.partition(":")
    if prefix not in ENCODERS:
        raise ModelLoadError(f"unknown encoder spec {spec!r}", _spec_fix(spec))
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    log.info("loading encoder %s on %s (%s)", spec, dev, prec)
    return ENCODERS.get(prefix)(target.strip(), spec=spec, device=dev, precision=prec)


def check_encoder_spec(spec: str) -> None:
    """Raise :class:`ModelLoadError` for a spec ``create_encoder`` would refuse, without loading any weights (for
    prefixes with a checker; others are checked for their prefix only)."""
    spec = (spec or "").strip()
    prefix, _, target = spec.partition(":")
    if prefix not in ENCODERS:
        raise ModelLoadError(f"unknown encoder spec {spec!r}", _spec_fix(spec))
    checker = _CHECKERS.get(prefix)
    if checker is not None:
        checker(target.strip(), spec=spec)


def _spec_fix(spec: str) -> str:
    prefixes = ", ".join(f"{p}:" for p in ENCODERS)
    fix = f"start it with one of {prefixes} e.g. open_clip:ViT-B-16/openai, hf:openai/clip-vit-base-patch32 or glyph"
    arch = spec.split("/", 1)[0]
    if "/" in spec and arch and ":" not in spec:
        import open_clip

        if arch in open_clip.list_models():
            return f"did you mean open_clip:{spec}? ({fix})"
        return f"did you mean hf:{spec}? ({fix})"
    return fix


_CHECKERS: dict[str, Callable[..., None]] = {}


def _register_builtins() -> None:
    from .glyph import load_glyph
    from .hf_clip import check_hf_clip, load_hf_clip
    from .openclip import check_open_clip, load_open_clip

    _CHECKERS.update({"open_clip": check_open_clip, "hf": check_hf_clip})

    ENCODERS.add("open_clip", load_open_clip)
    ENCODERS.add("hf", load_hf_clip)
    ENCODERS.add("glyph", load_glyph)


_register_builtins()
