"""``glyph`` / ``glyph:<folder>``: the glyph world's mini CLIP behind the encoder interface.

The model lives in ``synthrec.glyph.models.clip`` and is imported only when a glyph spec is used, so a missing or
broken glyph package becomes a one-line error instead of breaking the other encoders.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from ...errors import ModelLoadError, SynthrecError
from ._common import one_line
from .base import ImageTextEncoder, ImageTower


class GlyphClipEncoder(ImageTextEncoder):
    """The mini CLIP behind the stages' encoder interface."""

    def __init__(self, model, fingerprint: str, encoder_id: str = "glyph:clip",
                 device: str | torch.device | None = None):
        self.device = torch.device(device or "cpu")
        self.model = model.to(self.device).eval()
        self.encoder_id = encoder_id
        self.fingerprint = fingerprint
        self.embed_dim = model.text_proj.out_features
        self.logit_scale = float(model.scale().detach())

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        from ...glyph.models.clip import pixels_from_pil

        return pixels_from_pil([image])[0]

    def preprocess_batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        from ...glyph.models.clip import pixels_from_pil

        return pixels_from_pil(images)  # one numpy stack and one normalisation for the whole batch

    @torch.no_grad()
    def encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels.to(self.device)).float().cpu()

    def image_tower(self) -> ImageTower:
        layers = list(self.model.image)
        last_conv = max(i for i, m in enumerate(layers) if isinstance(m, torch.nn.Conv2d))
        # The last conv block (conv, BN, GELU) and the projection after it; Flatten has no parameters.
        return ImageTower(self.model.image, lambda module, x: module(x),
                          tuple(str(i) for i in range(last_conv, len(layers))))

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        from ...glyph.models import text as minilm

        e = minilm.encode(list(texts)).to(self.device)
        return self.model.encode_text_emb(e).float().cpu()

    @torch.no_grad()
    def encode_images(self, images: Sequence[Image.Image], batch_size: int = 1024) -> torch.Tensor:
        from ...glyph.models.clip import pixels_from_pil

        # Batched conversion: one numpy stack instead of one tensor per image.
        out = [self.encode_pixels(pixels_from_pil(images[i:i + batch_size])) for i in range(0, len(images),
                                                                                              batch_size)]
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)


def load_glyph_clip(path: str | Path | None = None, device: str | None = None) -> GlyphClipEncoder:
    """The shipped mini CLIP (``path=None``) or one saved by ``save_glyph_clip`` / ``synthrec glyph train``."""
    from ...glyph.models.clip import load_glyph_clip_model

    model, fingerprint = load_glyph_clip_model(path)
    return GlyphClipEncoder(model, fingerprint=fingerprint,
                            encoder_id="glyph:clip" if path is None else f"glyph:clip:{Path(path)}", device=device)


def load_glyph(target: str, *, spec: str, device: torch.device, precision: str) -> ImageTextEncoder:
    try:
        from ...glyph.models.clip import load_glyph_clip_model  # noqa: F401  (ImportError: no glyph models)
    except ImportError as exc:
        raise ModelLoadError(f"the glyph world's CLIP is not available ({one_line(exc)})",
                             "install synthrec with its glyph package, or use an open_clip: or hf: encoder") from exc
    try:
        # The mini CLIP is small and runs in fp32; ``precision`` only matters for the big encoders.
        return load_glyph_clip(path=target or None, device=str(device))
    except SynthrecError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"cannot load the glyph CLIP from {target or 'its shipped weights'!r} "
                             f"({one_line(exc)})", "give a folder written by the glyph CLIP's save, or plain `glyph`"
                             ) from exc
