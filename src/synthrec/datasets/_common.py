"""Helpers shared by the loaders: clear errors for missing files, and the class-id check."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError
from .info import DatasetInfo


def norm(name: str) -> str:
    """How CoOp's split files and folder names compare with synthrec's names: case, '_' and spacing ignored."""
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip().casefold()


def not_found(info: DatasetInfo, root: Path | None, what: str | None = None, *, download: bool = False) -> DataError:
    """The one-line error for files that are not where they should be."""
    what = what or f"{info.title} files"
    where = f" under {root}" if root is not None else ""
    # torchvision says "not found" for incomplete copies too, so the message covers both.
    if info.downloadable and not download:
        fix = f"pass download=True to fetch the images, or put the files in place: {info.layout}"
    else:
        fix = f"put the files in place: {info.layout}"
    return DataError(f"{what} not found or incomplete{where}", fix)


def check_keys(info: DatasetInfo, found: Sequence[str], where: str | Path, expected: Sequence[str] | None = None):
    """Refuse to load when the dataset's own class list differs from synthrec's: names would land on wrong labels."""
    expected = tuple(info.class_keys if expected is None else expected)
    found = tuple(str(k) for k in found)
    if found == expected:
        return
    if len(found) != len(expected):
        detail = f"{len(found)} classes found, {len(expected)} expected"
    else:
        i = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
        detail = f"class {i} is {found[i]!r} on disk but {expected[i]!r} in synthrec's list"
    raise DataError(f"the class list of {info.title} at {where} does not match synthrec's ({detail})",
                    f"use the official release of {info.title}, laid out as: {info.layout}")


def build_torchvision(info: DatasetInfo, root: Path, download: bool, make: Callable[[bool], Any]) -> Any:
    """Construct a torchvision dataset, turning its "not found" and download failures into one-line DataErrors."""
    fetch = download and info.downloadable
    try:
        return make(fetch)
    except (RuntimeError, FileNotFoundError) as exc:
        if fetch:
            raise DataError(f"downloading {info.title} into {root} failed ({str(exc).strip()})",
                            f"check the network and free disk space, or put the files in place: {info.layout}") \
                from exc
        raise not_found(info, root, download=download) from exc
    except OSError as exc:  # URLError, HTTPError and disk errors from torchvision's downloader
        raise DataError(f"downloading {info.title} into {root} failed ({str(exc).strip()})",
                        f"check the network and free disk space, or put the files in place: {info.layout}") from exc


def torchvision_samples(ds: Any) -> tuple[list[str], list[int]]:
    """File paths and labels of a torchvision dataset, read from its index so no image is decoded."""
    for files, labels in (("_image_files", "_labels"), ("_images", "_labels")):
        if hasattr(ds, files) and hasattr(ds, labels):
            return [str(p) for p in getattr(ds, files)], [int(y) for y in getattr(ds, labels)]
    for attr in ("_samples", "samples"):
        if hasattr(ds, attr):
            pairs = getattr(ds, attr)
            return [str(p) for p, _ in pairs], [int(y) for _, y in pairs]
    import torchvision

    raise DataError(f"torchvision {torchvision.__version__} indexes {type(ds).__name__} in a way synthrec does not "
                    "know", "install the torchvision version that synthrec pins (see pyproject.toml)")
