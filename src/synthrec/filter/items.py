"""What the filter reads: :class:`~synthrec.features.items.ImageItem` records, from files or generated images."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from .._io import sha256_file
from ..errors import DataError
from ..features.cache import FileImage
from ..features.items import ImageItem, cache_items  # noqa: F401  (cache_items: re-exported)

_SHA = re.compile(r"^[0-9a-f]{64}$")


# What the filter reads is the one image item type (kept under its old name too).
FilterItem = ImageItem


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
