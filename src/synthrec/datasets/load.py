"""``load_dataset``: a built-in dataset by name, from files under ``root``."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError, DataError
from .base import LabeledImageDataset
from .lookup import entry as registry_entry


def load_dataset(name: str, root: str | os.PathLike | None = None, split: str | None = None, download: bool = False,
                 skip_corrupt: bool = False) -> LabeledImageDataset:
    """``split`` (default: the split the paper evaluates on) of the built-in dataset ``name``, read from ``root``.

    ``download=True`` fetches what torchvision can fetch; anything else missing is a one-line :class:`DataError`
    saying where the files go and in what layout (``get_dataset_info(name).layout``). Undecodable images raise
    :class:`DataError` when read, or are dropped with a logged warning at load time when ``skip_corrupt`` is true.
    """
    entry = registry_entry(name)
    info = entry.info
    split = info.test_split if split is None else split
    if split not in info.splits:
        raise ConfigError(f"{name} has no split {split!r}", f"choose one of: {', '.join(info.splits)}")
    path: Path | None = None
    if info.source != "builtin":
        if root is None:
            raise ConfigError(f"{name} needs a data root",
                              f"pass the folder that holds its files (or will, with download): {info.layout}")
        path = Path(root).expanduser()
        if path.exists() and not path.is_dir():
            raise DataError(f"data root {path} is a file", "pass the folder that holds the dataset's files")
        if not path.is_dir() and not (download and info.downloadable):
            fix = "pass download=True to fetch it there, or " if info.downloadable else ""
            raise DataError(f"data root {path} does not exist", f"{fix}put the files in place: {info.layout}")
    return entry.loader(info, path, split, download, skip_corrupt)
