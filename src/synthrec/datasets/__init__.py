"""The paper's benchmark datasets by name, and generic image folders.

>>> info = get_dataset_info("eurosat")            # class names, prompts, splits, layout; no files needed
>>> ds = load_dataset("eurosat", "/data")        # (PIL image, label) pairs; ds.classnames[label] names the class
>>> folder = load_image_folder("/data/mine")     # root/<class>/<image>, classes in sorted folder order

Names are imported on first use: what a dataset is (``get_dataset_info``, ``list_datasets``) needs no torch, so
``synthrec datasets list`` starts in a fraction of a second; the dataset classes bring torch in when used.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .info import DatasetInfo
from .lookup import get_dataset_info, list_datasets

if TYPE_CHECKING:
    from .base import ArrayImageDataset, FileImageDataset, LabeledImageDataset, MemoryImageDataset, open_image
    from .folder import load_image_folder
    from .load import load_dataset

_LAZY = {
    "ArrayImageDataset": ".base",
    "FileImageDataset": ".base",
    "LabeledImageDataset": ".base",
    "MemoryImageDataset": ".base",
    "open_image": ".base",
    "load_image_folder": ".folder",
    "load_dataset": ".load",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ArrayImageDataset",
    "DatasetInfo",
    "FileImageDataset",
    "LabeledImageDataset",
    "MemoryImageDataset",
    "get_dataset_info",
    "list_datasets",
    "load_dataset",
    "load_image_folder",
    "open_image",
]
