"""Where the shipped glyph-world models live inside the package (``weights/<name>/``: weights + model card)."""
from __future__ import annotations

from pathlib import Path

WEIGHTS_ROOT = Path(__file__).resolve().parents[1] / "weights"
CLIP_NAME, PIPELINE_NAME, LE_NAME = "clip", "pipeline", "le"


def weights_dir(name: str) -> Path:
    """Folder of a shipped model: ``clip``, ``pipeline`` or ``le`` (``logs`` holds training logs and grids, which
    stay out of the built wheel)."""
    return WEIGHTS_ROOT / name
