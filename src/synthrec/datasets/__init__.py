"""The paper's benchmark datasets by name, and generic image folders.

>>> info = get_dataset_info("eurosat")            # class names, prompts, splits, layout; no files needed
>>> ds = load_dataset("eurosat", "/data")        # (PIL image, label) pairs; ds.classnames[label] names the class
>>> folder = load_image_folder("/data/mine")     # root/<class>/<image>, classes in sorted folder order
"""
from .base import ArrayImageDataset, FileImageDataset, LabeledImageDataset, MemoryImageDataset, open_image
from .folder import load_image_folder
from .info import DatasetInfo
from .lookup import get_dataset_info, list_datasets
from .load import load_dataset

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
