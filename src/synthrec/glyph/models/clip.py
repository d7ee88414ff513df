"""The glyph world's mini CLIP, trained LiT-style: a small CNN image tower learns to meet the frozen MiniLM text
embeddings (through one learned linear text projection) in a shared space.

The model and its weights live here; ``synthrec.features.encoders.glyph`` puts it behind the same
:class:`ImageTextEncoder` interface the stages use for open_clip and Hugging Face CLIP (``load_glyph_clip``).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image
from torch import nn

from ..world.constants import IMAGE_SIZE
from ..world.render import to_size
from . import text as minilm
from .weights import CLIP_NAME, weights_dir

# Fixed input normalisation (ink is sparse: mean ~0.2, std ~0.35 on rendered and real digits).
PIXEL_MEAN, PIXEL_STD = 0.2, 0.35
PREPROCESS_ID = f"grey-{IMAGE_SIZE}px-box-or-bilinear-mean{PIXEL_MEAN}-std{PIXEL_STD}"


def default_config() -> dict:
    return {"width": 32, "embed_dim": 256, "text_dim": minilm.EMBED_DIM, "image_size": IMAGE_SIZE}


class GlyphClip(nn.Module):
    def __init__(self, width: int = 32, embed_dim: int = 256, text_dim: int = 384, image_size: int = 16):
        super().__init__()

        def block(cin, cout, stride=1):
            return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.GELU()]

        c1, c2, c3 = width, 2 * width, 4 * width
        side = image_size // 4
        # Flatten rather than pool at the end: where ink sits in the frame is what tells a 6 from a 9.
        self.image = nn.Sequential(*block(1, c1), *block(c1, c1), *block(c1, c2, 2), *block(c2, c2),
                                   *block(c2, c3, 2), *block(c3, c3), nn.Flatten(),
                                   nn.Linear(c3 * side * side, embed_dim))
        self.text_proj = nn.Linear(text_dim, embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(float(torch.log(torch.tensor(10.0)))))

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.image(x), dim=-1)

    def encode_text_emb(self, e: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.text_proj(e), dim=-1)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=100.0)


def pixels_from_pil(images: Sequence[Image.Image]) -> torch.Tensor:
    import numpy as np

    arr = np.stack([np.asarray(to_size(im, IMAGE_SIZE), dtype=np.float32) for im in images])
    return pixels_from_uint8(torch.from_numpy(arr))


def pixels_from_uint8(arr: torch.Tensor) -> torch.Tensor:
    """(N, H, W) uint8/float 0..255 -> (N, 1, H, W) normalised."""
    return ((arr.float() / 255.0 - PIXEL_MEAN) / PIXEL_STD).unsqueeze(1)


def save_glyph_clip(model: GlyphClip, config: dict, folder: str | Path) -> None:
    from ..._io import write_json, write_safetensors

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_safetensors(folder / "model.safetensors",
                      {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()})
    write_json(folder / "config.json", config)


def load_glyph_clip_model(path: str | Path | None = None) -> tuple[GlyphClip, str]:
    """The shipped mini CLIP (``path=None``) or one saved by :func:`save_glyph_clip`, with its fingerprint (the
    weights' hash plus the preprocessing and text encoder it was trained with)."""
    from safetensors.torch import load_file

    from ...errors import ModelLoadError

    folder = Path(path) if path else weights_dir(CLIP_NAME)
    wfile = folder / "model.safetensors"
    if not wfile.is_file():
        raise ModelLoadError(f"no mini CLIP weights at {folder}",
                             "train them with `synthrec glyph train --only clip` or pass another path")
    cfg_file = folder / "config.json"
    cfg = json.loads(cfg_file.read_text()) if cfg_file.is_file() else default_config()
    model = GlyphClip(**{k: cfg[k] for k in ("width", "embed_dim", "text_dim", "image_size")})
    model.load_state_dict(load_file(str(wfile)))
    h = hashlib.sha256(wfile.read_bytes())
    h.update(PREPROCESS_ID.encode())
    h.update(minilm.SOURCE.encode())
    return model, h.hexdigest()[:32]
