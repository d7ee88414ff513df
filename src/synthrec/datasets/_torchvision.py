"""Loaders for the datasets torchvision knows: torchvision downloads and indexes, synthrec checks and decodes.

torchvision reads each dataset's own metadata (CIFAR's batches.meta, variants.txt, cars_meta.mat, ...). Its class
list is compared with synthrec's table before anything is returned, so a class name cannot land on another label.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._common import build_torchvision, check_keys, not_found, torchvision_samples
from .info import DatasetInfo

if TYPE_CHECKING:
    from .base import FileImageDataset, LabeledImageDataset


def _tv(name: str):
    """A torchvision dataset class by name, imported only when a dataset is loaded: listing datasets needs no torch."""
    from torchvision import datasets

    return getattr(datasets, name)


def _files(info: DatasetInfo, root: Path, split: str, paths, labels, skip_corrupt: bool) -> FileImageDataset:
    from .base import FileImageDataset

    if not paths:
        raise not_found(info, root, f"images of the {split} split of {info.title}")
    return FileImageDataset(paths, labels, skip_corrupt=skip_corrupt, name=info.name, split=split,
                            classnames=info.classnames, root=root)


def load_cifar(info: DatasetInfo, root: Path, split: str, download: bool, skip_corrupt: bool, *,
               cls: str) -> LabeledImageDataset:
    from .base import ArrayImageDataset

    ds = build_torchvision(info, root, download, lambda d: _tv(cls)(str(root), train=split == "train", download=d))
    check_keys(info, ds.classes, Path(root) / ds.base_folder / ds.meta["filename"])
    return ArrayImageDataset(ds.data, ds.targets, name=info.name, split=split, classnames=info.classnames,
                             root=root)


def load_caltech(info: DatasetInfo, root: Path, split: str, download: bool, skip_corrupt: bool, *,
                 cls: str, n_train: int) -> LabeledImageDataset:
    """Caltech-101/256: no official split, so the first ``n_train`` images of each class train and the rest test
    (the authors' CALtech101/256 rule: 30 and 60)."""
    ds = build_torchvision(info, root, download, lambda d: _tv(cls)(str(root), download=d))
    images = Path(ds.root) / ("101_ObjectCategories" if cls == "Caltech101" else "256_ObjectCategories")
    # torchvision drops Caltech-101's BACKGROUND_Google folder; the check pins the remaining order to our names.
    check_keys(info, ds.categories, images)
    paths, labels = [], []
    for number, y in zip(ds.index, ds.y):
        keep = split == "all" or (number <= n_train) == (split == "train")
        if not keep:
            continue
        cat = ds.categories[y]
        name = f"image_{number:04d}.jpg" if cls == "Caltech101" else f"{y + 1:03d}_{number:04d}.jpg"
        paths.append(str(images / cat / name))
        labels.append(y)
    return _files(info, root, split, paths, labels, skip_corrupt)


def load_indexed(info: DatasetInfo, root: Path, split: str, download: bool, skip_corrupt: bool, *,
                 make, split_arg: dict[str, str] | None = None) -> LabeledImageDataset:
    """A torchvision dataset that lists its own images and classes (SUN397, Aircraft, Cars, Flowers, Food, Pets,
    DTD, EuroSAT). ``split_arg`` maps synthrec's split names to torchvision's; ``make(root, split, download)``."""
    tv_split = (split_arg or {}).get(split, split)
    ds = build_torchvision(info, root, download, lambda d: make(str(root), tv_split, d))
    check_keys(info, ds.classes, root)
    paths, labels = torchvision_samples(ds)
    return _files(info, root, split, paths, labels, skip_corrupt)


# torchvision constructors, adapted to one (root, split, download) signature.
def make_sun397(root, split, download):
    return _tv("SUN397")(root, download=download)


def make_aircraft(root, split, download):
    return _tv("FGVCAircraft")(root, split=split, annotation_level="variant", download=download)


def make_cars(root, split, download):
    # torchvision can no longer download Stanford Cars (its source URL is gone); never ask it to.
    return _tv("StanfordCars")(root, split=split, download=False)


def make_flowers(root, split, download):
    return _tv("Flowers102")(root, split=split, download=download)


def make_food(root, split, download):
    return _tv("Food101")(root, split=split, download=download)


def make_pets(root, split, download):
    return _tv("OxfordIIITPet")(root, split=split, target_types="category", download=download)


def make_dtd(root, split, download):
    return _tv("DTD")(root, split=split, partition=1, download=download)


def make_eurosat(root, split, download):
    return _tv("EuroSAT")(root, download=download)


def fetcher(make, split: str = "test"):
    """A download-only call of a torchvision dataset, for entries that index the images another way (CoOp)."""
    def fetch(root: Path) -> None:
        make(str(root), split, True)

    return fetch
