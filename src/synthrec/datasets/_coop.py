"""CoOp's split files (``split_zhou_<Dataset>.json``): the train/val/test splits of the few-shot benchmark.

The paper's few-shot protocol (and, for SUN397 and EuroSAT, its test sets) follow CoOp, whose random splits exist
only as these JSON files: ``{"train": [[relative_path, label, classname], ...], "val": [...], "test": [...]}``.
They cannot be regenerated, so synthrec reads them and checks every entry's label against its class name (and,
where the path encodes the class, against the folder) before trusting it.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import DataError
from ._common import build_torchvision, norm, not_found
from .info import DatasetInfo

if TYPE_CHECKING:
    from .base import FileImageDataset

COOP_DATASETS_DOC = "https://github.com/KaiyangZhou/CoOp/blob/main/DATASETS.md"


def first_dir(path: PurePosixPath) -> str:
    return path.parts[0]


def sun397_class(path: PurePosixPath) -> str:
    return "/".join(path.parts[1:-1])


def pet_breed(path: PurePosixPath) -> str:
    return path.name.rsplit("_", 1)[0]


def _fail(info: DatasetInfo, split_file: Path, problem: str) -> DataError:
    return DataError(f"{split_file} {problem}",
                     f"use CoOp's original {split_file.name} ({COOP_DATASETS_DOC}); synthrec's class list for "
                     f"{info.name} is shown by `synthrec datasets show {info.name}`")


def read_split(info: DatasetInfo, split_file: Path, split: str,
               key_of_path: Callable[[PurePosixPath], str] | None) -> list[tuple[PurePosixPath, int]]:
    try:
        data = json.loads(split_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(info, split_file, f"cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get(split), list):
        raise _fail(info, split_file, f"has no {split!r} list")
    names = [norm(n) for n in info.classnames]
    keys = [norm(k) for k in info.class_keys]
    items = []
    for n, item in enumerate(data[split]):
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                and isinstance(item[1], int) and isinstance(item[2], str)):
            raise _fail(info, split_file, f"entry {n} of {split!r} is not [path, label, classname]")
        rel, label, classname = item
        path = PurePosixPath(rel)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise _fail(info, split_file, f"entry {n} of {split!r} has an unsafe path {rel!r}")
        if not 0 <= label < len(names):
            raise _fail(info, split_file, f"entry {n} of {split!r} has label {label}, outside {len(names)} classes")
        if norm(classname) != names[label]:
            raise _fail(info, split_file, f"calls label {label} {classname!r}, but synthrec's class {label} is "
                                          f"{info.classnames[label]!r}")
        if key_of_path is not None and norm(key_of_path(path)) != keys[label]:
            raise _fail(info, split_file, f"puts {rel!r} under label {label}, whose folder is "
                                          f"{info.class_keys[label]!r}")
        items.append((path, label))
    if not items:
        raise _fail(info, split_file, f"has an empty {split!r} list")
    return items


def load_coop(info: DatasetInfo, root: Path, split: str, download: bool, skip_corrupt: bool, *,
              image_dir: str, split_file: str, key_of_path: Callable[[PurePosixPath], str] | None = None,
              fetch: Callable[[Path], None] | None = None, all_loader=None) -> FileImageDataset:
    """``split`` of ``info`` from CoOp's split file ``root/<split_file>``, images under ``root/<image_dir>``.

    ``all_loader`` serves the split ``"all"`` (every image, through torchvision) for entries that offer it.
    """
    if split == "all" and all_loader is not None:
        return all_loader(info, root, split, download, skip_corrupt)
    # The split file is checked first: without it a download of many gigabytes of images would be in vain.
    split_path = root / split_file
    if not split_path.is_file():
        alt = "; split='all' needs no split file" if "all" in info.splits else ""
        raise DataError(f"the {split!r} split of {info.title} comes from CoOp's {split_path.name}, "
                        f"which is not at {split_path}",
                        f"download {split_path.name} (linked from {COOP_DATASETS_DOC}) and put it there{alt}")
    items = read_split(info, split_path, split, key_of_path)
    if download and fetch is not None and info.downloadable:
        build_torchvision(info, root, True, lambda _: fetch(root))
    images = root / image_dir
    if not images.is_dir():
        raise not_found(info, root, f"{info.title} images ({image_dir}/)", download=download)
    paths = [str(images.joinpath(*p.parts)) for p, _ in items]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise DataError(f"{len(missing)} of the {len(paths)} images that {split_path.name} lists for {split!r} are "
                        f"missing (first: {missing[0]})",
                        f"restore the full {info.title} image folder at {images}")
    from .base import FileImageDataset

    return FileImageDataset(paths, [y for _, y in items], skip_corrupt=skip_corrupt, name=info.name, split=split,
                            classnames=info.classnames, root=root)
