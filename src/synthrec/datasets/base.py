"""The object every loader returns: a sequence of ``(PIL image, int label)`` with the class names beside it.

Images are decoded lazily, one per ``__getitem__``, so a 1.3M-image ImageNet costs a list of paths until it is read.
A file that cannot be decoded is a :class:`DataError` naming the file, never a silently skipped or garbage sample;
``skip_corrupt=True`` trades that for a scan at construction that drops such files with a logged warning.
"""
from __future__ import annotations

import logging
import operator
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from ..errors import DataError

log = logging.getLogger("synthrec.datasets")

# UnidentifiedImageError and truncated-file errors are OSErrors; some broken headers raise SyntaxError/ValueError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)
_SKIP_FIX = "replace or delete the file, or load with skip_corrupt=True to skip undecodable files with a warning"
_MAX_WARNINGS = 20


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _to_rgb_or_l(im: Image.Image) -> Image.Image:
    # Greyscale stays single-channel (digits, some Caltech photos); palettes, alpha and CMYK become plain RGB.
    return im.convert("L" if im.mode == "L" else "RGB")


def open_image(path: str | os.PathLike) -> Image.Image:
    """Decode one image file fully, as RGB or L; a missing or undecodable file is a one-line :class:`DataError`."""
    try:
        with Image.open(path) as im:
            im.load()
            return _to_rgb_or_l(im)
    except FileNotFoundError:
        raise DataError(f"image {path} does not exist",
                        "restore the file, or rebuild the dataset folder so that its index matches") from None
    except _DECODE_ERRORS as exc:
        raise DataError(f"cannot decode image {path} ({_one_line(exc)})", _SKIP_FIX) from exc


def probe_image(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be decoded, or None if it can.

    JPEGs are decoded in draft mode: the whole entropy-coded stream is still read (so truncation is caught) but at
    1/8 scale, which makes a scan of a large folder several times cheaper than full decoding.
    """
    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("RGB", (64, 64))
            im.load()
        return None
    except FileNotFoundError:
        return "file does not exist"
    except _DECODE_ERRORS as exc:
        return _one_line(exc)


class LabeledImageDataset(Dataset):
    """``(image, label)`` pairs plus ``classnames``, ``name`` and ``split``; labels index into ``classnames``."""

    def __init__(self, *, name: str, split: str, classnames: Sequence[str], labels: Sequence[int],
                 root: str | os.PathLike | None = None):
        self.name = name
        self.split = split
        self.classnames = tuple(classnames)
        self.root = Path(root) if root is not None else None
        self.labels = [int(y) for y in labels]
        n = len(self.classnames)
        bad = next((y for y in self.labels if not 0 <= y < n), None)
        if bad is not None:
            raise DataError(f"{name} ({split}) has label {bad}, outside the {n} classes",
                            "check that the dataset files belong to this dataset and are complete")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        return self._load(i), self.labels[i]

    def __iter__(self) -> Iterator[tuple[Image.Image, int]]:
        for i in range(len(self)):
            yield self[i]

    @property
    def targets(self) -> list[int]:
        """torchvision's name for the labels, so samplers written for torchvision datasets work unchanged."""
        return self.labels

    @property
    def num_classes(self) -> int:
        return len(self.classnames)

    def class_counts(self) -> list[int]:
        return np.bincount(np.asarray(self.labels, dtype=np.int64), minlength=self.num_classes).tolist()

    def source_of(self, index: int) -> str:
        """Where sample ``index`` comes from (a path, or a position in an array), for messages and manifests."""
        return f"{self.name}[{index}]"

    def _load(self, i: int) -> Image.Image:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, split={self.split!r}, "
                f"samples={len(self)}, classes={self.num_classes})")


class FileImageDataset(LabeledImageDataset):
    """Images read from files on disk."""

    def __init__(self, paths: Sequence[str | os.PathLike], labels: Sequence[int], *, skip_corrupt: bool = False,
                 **kw):
        super().__init__(labels=labels, **kw)
        self.paths = [str(p) for p in paths]
        if len(self.paths) != len(self.labels):
            raise ValueError(f"{len(self.paths)} paths for {len(self.labels)} labels")
        if skip_corrupt:
            self._drop_undecodable()

    def _drop_undecodable(self) -> None:
        workers = max(1, min(8, os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            reasons = list(pool.map(probe_image, self.paths, chunksize=64))
        bad = [i for i, r in enumerate(reasons) if r is not None]
        if not bad:
            return
        for i in bad[:_MAX_WARNINGS]:
            log.warning("skipping undecodable image %s (%s)", self.paths[i], reasons[i])
        if len(bad) > _MAX_WARNINGS:
            log.warning("... and %d more undecodable images", len(bad) - _MAX_WARNINGS)
        log.warning("skipped %d of %d images of %s (%s) that cannot be decoded", len(bad), len(self.paths),
                    self.name, self.split)
        if len(bad) == len(self.paths):
            raise DataError(f"none of the {len(bad)} images of {self.name} ({self.split}) can be decoded "
                            f"(first: {self.paths[bad[0]]}: {reasons[bad[0]]})",
                            "check that the folder holds image files and that they were copied completely")
        keep = sorted(set(range(len(self.paths))) - set(bad))
        self.paths = [self.paths[i] for i in keep]
        self.labels = [self.labels[i] for i in keep]

    def _load(self, i: int) -> Image.Image:
        return open_image(self.paths[i])

    def source_of(self, index: int) -> str:
        return self.paths[index]


class ArrayImageDataset(LabeledImageDataset):
    """Images held in one uint8 array (N, H, W, 3) or (N, H, W), as CIFAR ships them."""

    def __init__(self, array: np.ndarray, labels: Sequence[int], **kw):
        super().__init__(labels=labels, **kw)
        self.array = np.asarray(array)
        if self.array.dtype != np.uint8 or self.array.ndim not in (3, 4) or len(self.array) != len(self.labels):
            raise ValueError(f"expected {len(self.labels)} uint8 images, got an array of shape {self.array.shape} "
                             f"and dtype {self.array.dtype}")

    def _load(self, i: int) -> Image.Image:
        return Image.fromarray(np.ascontiguousarray(self.array[i]))


class MemoryImageDataset(LabeledImageDataset):
    """Images already decoded in memory (the built-in digits)."""

    def __init__(self, images: Sequence[Image.Image], labels: Sequence[int], **kw):
        super().__init__(labels=labels, **kw)
        self.images = list(images)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images for {len(self.labels)} labels")

    def _load(self, i: int) -> Image.Image:
        return _to_rgb_or_l(self.images[i])
