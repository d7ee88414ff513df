"""``glyph`` / ``glyph:<folder>``: the glyph world's mini CLIP, imported only when asked for.

The glyph package is optional to everything else here, so a missing or broken one becomes a one-line error.
"""
from __future__ import annotations

import importlib

import torch

from ...errors import ModelLoadError, SynthrecError
from ._common import one_line
from .base import ImageTextEncoder


def load_glyph(target: str, *, spec: str, device: torch.device, precision: str) -> ImageTextEncoder:
    try:
        module = importlib.import_module("synthrec.glyph.models.clip")
    except ImportError as exc:
        raise ModelLoadError(f"the glyph world's CLIP is not available ({one_line(exc)})",
                             "install synthrec with its glyph package, or use an open_clip: or hf: encoder") from exc
    try:
        # The mini CLIP is small and runs in fp32; ``precision`` only matters for the big encoders.
        return module.load_glyph_clip(path=target or None, device=str(device))
    except SynthrecError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"cannot load the glyph CLIP from {target or 'its shipped weights'!r} "
                             f"({one_line(exc)})", "give a folder written by the glyph CLIP's save, or plain `glyph`"
                             ) from exc
