"""scikit-learn's ``load_digits``: 1,797 real handwritten digits (8x8, 43 writers), the glyph world's real task.

One fixed split, used everywhere: ``test`` (evaluation only) and ``pool`` (few-shot shots and every design choice
are drawn from it, never from ``test``). The split is stratified per class with a fixed permutation (seed 20230501),
so it is identical on every machine: 901 test and 896 pool images (half of each class, rounded up, is test).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

CLASSNAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
SPLIT_SEED = 20230501
SPLITS = ("test", "pool", "all")


def _split_indices(targets: np.ndarray) -> dict[str, np.ndarray]:
    import numpy as np

    rng = np.random.default_rng(SPLIT_SEED)
    test, pool = [], []
    for c in range(10):
        idx = np.flatnonzero(targets == c)
        idx = idx[rng.permutation(len(idx))]
        half = (len(idx) + 1) // 2
        test.extend(idx[:half].tolist())
        pool.extend(idx[half:].tolist())
    return {"test": np.array(sorted(test)), "pool": np.array(sorted(pool)), "all": np.arange(len(targets))}


def load_digits_split(split: str = "test") -> tuple[list[Image.Image], list[int]]:
    """Images as 8x8 greyscale PIL images (white ink on black, 0..255) and their labels."""
    if split not in SPLITS:
        from ..errors import DataError

        raise DataError(f"digits has no split {split!r}", f"use one of {', '.join(SPLITS)}")
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = _split_indices(d.target)[split]
    images = [Image.fromarray(np.round(d.images[i] * (255.0 / 16.0)).astype(np.uint8), mode="L") for i in idx]
    return images, [int(d.target[i]) for i in idx]
