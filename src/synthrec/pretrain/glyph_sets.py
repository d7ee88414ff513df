"""The glyph world's pre-training sets (the paper's Tables 8-11 in miniature; ``synthrec demo pretrain``).

* downstream-aware synthetic: the 10 digit classes, LE prompts from the shipped LE model, images from the shipped
  glyph diffusion pipeline, no filter (the analogue of the paper's "C100 Syn");
* downstream-agnostic synthetic: the 52 letters, no digit, same recipe (the analogue of "IN-1K Syn");
* "real" pre-training: the renderer's own images -- the world's reality, which the generator was trained on --
  of the same label space and size (the analogue of real ImageNet).

Sizes are multiples of ``unit`` images (1x, 2x, 4x). The synthetic sets are made once in chunks of ``unit`` under
a cache folder, so every size, seed and model reads the same images and a rerun generates nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..config.schema import SetConfig
from .data import ShardSet, open_set, write_image_shards
from .sets import build_set

DIGIT_NAMES = tuple("0123456789")
LETTER_NAMES = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
SET_SEED = 0


@dataclass(frozen=True)
class GlyphSetSize:
    unit: int                  # images in a 1x set
    le_per_class_digits: int   # LE sentences per digit class
    le_per_class_letters: int  # LE sentences per letter class
    steps: int                 # denoising steps of the glyph pipeline


def synthetic_set_config(names: tuple[str, ...], images: int, size: GlyphSetSize, per_class: int) -> SetConfig:
    from ..glyph.world import constants as world

    return SetConfig.model_validate({
        "labels": {"names": list(names)},
        "images": images,
        "chunk_images": size.unit,
        "prompts": {"strategy": "le", "per_class": per_class,
                    "le": {"model": "glyph", "input_format": world.LE_INPUT, "max_draws": 4 * per_class,
                           "max_new_tokens": 64}},
        "generate": {"generator": "glyph", "steps": size.steps, "batch_size": 256, "shard_size": 200},
    })


def synthetic_set(kind: str, multiple: int, size: GlyphSetSize, cache: Path) -> ShardSet:
    """``kind``: aware (digits) or agnostic (letters); ``multiple``: 1, 2, 4 ... of ``size.unit``."""
    names, per_class = ((DIGIT_NAMES, size.le_per_class_digits) if kind == "aware"
                        else (LETTER_NAMES, size.le_per_class_letters))
    cfg = synthetic_set_config(names, multiple * size.unit, size, per_class)
    # The demo's own cache: a set made by other settings or older shipped weights is remade, not refused.
    return build_set(cfg, cache / f"syn-{kind}", seed=SET_SEED, overwrite=True)


def real_set(kind: str, multiple: int, size: GlyphSetSize, cache: Path) -> ShardSet:
    """The renderer's images (its "generator" style mix, what the diffusion model learned from), class-balanced."""
    from ..glyph.world.render import render_glyphs

    names = DIGIT_NAMES if kind == "aware" else LETTER_NAMES
    n = multiple * size.unit
    labels = [i % len(names) for i in range(n)]
    rendered = render_glyphs([names[c] for c in labels], seed=SET_SEED + 424242, styles="generator", size=16)
    images = [im for im, _, _ in rendered]
    # Rendering takes a second; keying the folder by the pixels means a changed renderer makes a new set
    # instead of reusing images of an older world.
    digest = hashlib.sha256(b"".join(im.tobytes() for im in images)).hexdigest()[:12]
    folder = cache / f"real-{kind}-{n}-{digest}"
    if (folder / "set.json").is_file():
        return open_set(folder)
    return write_image_shards(folder, images, labels, names, shard_size=200,
                              source="glyph renderer, generator style mix", seed=SET_SEED + 424242)
