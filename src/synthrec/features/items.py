"""The one image item type every stage reads: generated images, image files, in-memory images.

An :class:`ImageItem` has an id unique in its set, the class it is meant to show, a content key (``sha256``: of
the encoded bytes for files and generated images, :func:`~synthrec.features.image_sha256` of the pixels for
in-memory ones) and a loader. It is its own loader for the feature cache: ``cache_items(items)`` are the cache's
``(key, loader)`` pairs, and a failed decode names ``source``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from PIL import Image


@dataclass(frozen=True)
class ImageItem:
    """``image_id`` unique in the run, ``class_id`` the intended class, ``sha256`` the content key, ``load``
    decodes it, ``source`` names it in error messages (a file, or shard/key)."""

    image_id: str
    class_id: int
    sha256: str
    load: Callable[[], Image.Image]
    source: str = ""

    def __call__(self) -> Image.Image:
        return self.load()


def cache_items(items: Sequence[ImageItem]) -> list[tuple[str, ImageItem]]:
    """(content key, loader) pairs for the feature cache; each item loads itself and names its source in errors."""
    return [(it.sha256, it if it.source else _with_source(it)) for it in items]


def _with_source(item: ImageItem) -> ImageItem:
    return ImageItem(item.image_id, item.class_id, item.sha256, item.load, item.image_id)
