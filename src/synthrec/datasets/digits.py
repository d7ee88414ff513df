"""scikit-learn's ``load_digits``: 1,797 real handwritten digits (8x8, 43 writers), the glyph world's real task.

One fixed split, used everywhere: ``test`` (evaluation only) and ``pool`` (few-shot shots and every design choice
are drawn from it, never from ``test``). The split is stratified per class with a fixed permutation (seed 20230501),
so it is identical on every machine: 901 test and 896 pool images (half of each class, rounded up, is test).
"""
from __future__ import annotations

from pathlib import Path
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

    pixels, targets = _read_digits()
    idx = _split_indices(targets)[split]
    images = [Image.fromarray(np.round(pixels[i] * (255.0 / 16.0)).astype(np.uint8), mode="L") for i in idx]
    return images, [int(targets[i]) for i in idx]


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 8, 8) pixel values 0..16 and (1797,) labels, as ``sklearn.datasets.load_digits`` gives them.

    Read straight from the CSV that scikit-learn ships (what ``load_digits`` itself reads): importing
    ``sklearn.datasets`` costs about 0.8 s, a fifth of the demo's start-up, to parse one small file.
    """
    import importlib.util

    import numpy as np

    spec = importlib.util.find_spec("sklearn")
    csv = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if csv is None or not csv.is_file():  # another layout: let scikit-learn find its data
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.images, d.target
    data = np.loadtxt(csv, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)
