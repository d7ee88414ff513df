"""Loaders for datasets torchvision cannot fetch: ImageNet and its variants, Birdsnap, CUB; and the built-in digits."""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import DataError
from ._common import check_keys, not_found
from .folder import index_class_folders
from .info import DatasetInfo

if TYPE_CHECKING:
    from .base import FileImageDataset, MemoryImageDataset


def load_class_folders(info: DatasetInfo, root: Path, split: str, download: bool, skip_corrupt: bool, *,
                       split_dirs: dict[str, str]) -> FileImageDataset:
    """``root/<split_dirs[split]>/<class key>/**/<image>``; label ``i`` is the folder of ``info.class_keys[i]``.

    Labels follow synthrec's key order, not the sort order of the folder names, so the label of a class never
    depends on how a file system sorts; every key must have its folder and nothing else may be there.
    """
    split_dir = root / split_dirs[split]
    if not split_dir.is_dir():
        raise not_found(info, root, f"the {split!r} images of {info.title} ({split_dirs[split]}/)",
                        download=download)
    paths, labels = index_class_folders(split_dir, info.class_keys, what=info.title,
                                        fix=f"lay the files out as: {info.layout}")
    from .base import FileImageDataset

    return FileImageDataset(paths, labels, skip_corrupt=skip_corrupt, name=info.name, split=split,
                            classnames=info.classnames, root=root)


def _columns(path: Path, info: DatasetInfo, root: Path) -> list[list[str]]:
    if not path.is_file():
        raise not_found(info, root, f"{info.title} file {path.name}")
    rows = [ln.split(" ", 1) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if any(len(r) != 2 for r in rows):
        raise DataError(f"{path} is not a list of '<id> <value>' lines", f"restore it from the official {info.title}")
    return rows


def load_cub(info: DatasetInfo, root: Path, split: str, download: bool, skip_corrupt: bool) -> FileImageDataset:
    """CUB-200-2011 as its archive unpacks: classes.txt, images.txt, image_class_labels.txt, train_test_split.txt."""
    base = root / "CUB_200_2011"
    if not base.is_dir():
        raise not_found(info, root, f"{info.title} (CUB_200_2011/)")
    classes = _columns(base / "classes.txt", info, root)
    check_keys(info, [name.strip() for _, name in classes], base / "classes.txt")
    if [int(i) for i, _ in classes] != list(range(1, len(classes) + 1)):
        raise DataError(f"{base / 'classes.txt'} does not number its classes 1..{len(classes)}",
                        f"restore it from the official {info.title}")
    images = {i: rel.strip() for i, rel in _columns(base / "images.txt", info, root)}
    label_of = {i: int(c) - 1 for i, c in _columns(base / "image_class_labels.txt", info, root)}
    is_train = {i: flag.strip() == "1" for i, flag in _columns(base / "train_test_split.txt", info, root)}
    want_train = split == "train"
    paths, labels = [], []
    for image_id, rel in images.items():
        if image_id not in label_of or image_id not in is_train:
            raise DataError(f"image {image_id} of {base / 'images.txt'} has no label or split entry",
                            f"restore the official {info.title} text files")
        if is_train[image_id] != want_train:
            continue
        path, label = PurePosixPath(rel), label_of[image_id]
        if path.is_absolute() or ".." in path.parts or not 0 <= label < info.num_classes:
            raise DataError(f"{base / 'images.txt'} has a bad entry for image {image_id}: {rel!r}",
                            f"restore the official {info.title} text files")
        if path.parts[0] != info.class_keys[label]:
            raise DataError(f"{rel} is labelled class {label + 1} ({info.class_keys[label]})",
                            f"restore the official {info.title} image_class_labels.txt")
        paths.append(str(base.joinpath("images", *path.parts)))
        labels.append(label)
    if not paths:
        raise not_found(info, root, f"{split} images of {info.title}")
    from .base import FileImageDataset

    return FileImageDataset(paths, labels, skip_corrupt=skip_corrupt, name=info.name, split=split,
                            classnames=info.classnames, root=root)


def load_digits(info: DatasetInfo, root: Path | None, split: str, download: bool,
                skip_corrupt: bool) -> MemoryImageDataset:
    from .digits import load_digits_split

    images, labels = load_digits_split(split)
    from .base import MemoryImageDataset

    return MemoryImageDataset(images, labels, name=info.name, split=split, classnames=info.classnames)
