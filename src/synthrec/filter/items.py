"""What the filter reads: one record per generated image, with a content hash and a way to decode it."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from PIL import Image

from .._io import sha256_file
from ..errors import DataError
from ..features.cache import FileImage

_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FilterItem:
    """``image_id`` unique in the run, ``class_id`` the intended class, ``sha256`` of the encoded image bytes (the
    manifest's), ``load`` decodes it, ``source`` names it in error messages (a file, or shard/key)."""

    image_id: str
    class_id: int
    sha256: str
    load: Callable[[], Image.Image]
    source: str = ""


class _Named:
    def __init__(self, load: Callable[[], Image.Image], source: str):
        self._load = load
        self.source = source

    def __call__(self) -> Image.Image:
        return self._load()


def cache_items(items: Sequence[FilterItem]):
    """(sha256, loader) pairs for the feature cache, the loader carrying the item's source for error messages."""
    return [(it.sha256, _Named(it.load, it.source or it.image_id)) for it in items]


def items_from_files(files: Iterable[tuple[str | os.PathLike, int]], root: str | os.PathLike | None = None
                     ) -> list[FilterItem]:
    """Items for image files on disk (e.g. an ImageFolder); ids are paths relative to ``root`` when given."""
    out = []
    for path, class_id in files:
        path = Path(path)
        image_id = str(path.relative_to(root)) if root is not None else str(path)
        out.append(FilterItem(image_id, int(class_id), sha256_file(path), FileImage(path), str(path)))
    return out


def validate_items(items: Sequence[FilterItem], num_classes: int) -> None:
    seen: set[str] = set()
    for it in items:
        if it.image_id in seen:
            raise DataError(f"image id {it.image_id!r} appears twice", "give every image a unique id")
        seen.add(it.image_id)
        if not 0 <= int(it.class_id) < num_classes:
            raise DataError(f"image {it.image_id!r} has class id {it.class_id}, outside the {num_classes} classes",
                            "use class ids of the label space the images were generated for")
        if not isinstance(it.sha256, str) or not _SHA.match(it.sha256):
            raise DataError(f"image {it.image_id!r} has no valid sha256 ({it.sha256!r})",
                            "give the sha256 hex digest of the image bytes, as the generation manifest records")
