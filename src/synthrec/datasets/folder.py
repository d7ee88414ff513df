"""Image folders: one sub-folder of images per class, as torchvision's ImageFolder reads them."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from ..labels import safe_dirname, unique_dirnames

if TYPE_CHECKING:
    from .base import FileImageDataset

log = logging.getLogger("synthrec.datasets")

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def class_folders(root: Path) -> list[str]:
    """Sub-folders of ``root`` in sorted order (hidden ones skipped): torchvision's class order."""
    return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))


def list_images(folder: Path) -> list[str]:
    """Image files under ``folder`` (recursively, like ImageFolder), sorted so that the order is the same anywhere."""
    found = []
    seen: set[tuple[int, int]] = set()  # (device, inode) of each folder walked: a symlink loop is walked once
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(os.path.join(dirpath, f) for f in filenames
                     if not f.startswith(".") and f.lower().endswith(IMG_EXTENSIONS))
    return sorted(found)


def index_class_folders(split_dir: Path, folders: Sequence[str], *, what: str, fix: str,
                        strict: bool = True) -> tuple[list[str], list[int]]:
    """Paths and labels of images in ``split_dir/<folders[i]>/``, label ``i``.

    Every listed folder must exist; with ``strict``, a folder that is not listed is an error too, because it most
    often means ``root`` points at the wrong dataset or at a parent folder.
    """
    present = set(class_folders(split_dir))
    missing = [f for f in folders if f not in present]
    if missing:
        raise DataError(f"{split_dir} lacks {len(missing)} of the {len(folders)} class folders of {what} "
                        f"(first missing: {missing[0]!r})", fix)
    extra = sorted(present - set(folders))
    if strict and extra:
        raise DataError(f"{split_dir} has {len(extra)} folder(s) that are not classes of {what} "
                        f"(first: {extra[0]!r})", f"remove them, or point root at the right folder; {fix}")
    paths: list[str] = []
    labels: list[int] = []
    empty = []
    for label, folder in enumerate(folders):
        files = list_images(split_dir / folder)
        if not files:
            empty.append(folder)
        paths.extend(files)
        labels.extend([label] * len(files))
    if not paths:
        raise DataError(f"{split_dir} holds no images ({', '.join(IMG_EXTENSIONS)})", fix)
    if empty:
        log.warning("%d class folder(s) of %s under %s hold no images (first: %s)", len(empty), what, split_dir,
                    empty[0])
    return paths, labels


def _match_folders(root: Path, classnames: Sequence[str], folders: list[str]) -> list[str]:
    # Accept the name itself, its sanitised form, or synthrec's own "<id>_<name>" folders, so that a folder
    # written by another synthrec stage from the same label space reads back with the same ids.
    present = set(folders)
    numbered = unique_dirnames(classnames)
    chosen = []
    for i, name in enumerate(classnames):
        options = [name, safe_dirname(name), numbered[i]]
        hit = next((o for o in options if o in present), None)
        if hit is None:
            raise DataError(f"{root} has no folder for class {i} {name!r} (looked for {options[0]!r}, "
                            f"{options[1]!r} or {options[2]!r})",
                            "name each class folder after its class, or pass the class names in folder order")
        chosen.append(hit)
    if len(set(chosen)) != len(chosen):
        raise DataError(f"two classes of {root} map to the same folder", "give the classes distinct folders")
    extra = sorted(present - set(chosen))
    if extra:
        raise DataError(f"{root} has {len(extra)} folder(s) that match no class name (first: {extra[0]!r})",
                        "remove them, or add their classes to the class list")
    return chosen


def load_image_folder(root: str | os.PathLike, classnames: Sequence[str] | None = None, skip_corrupt: bool = False,
                      *, name: str | None = None, split: str = "all") -> FileImageDataset:
    """An ImageFolder: ``root/<class>/**/<image>``.

    Without ``classnames`` the classes are the sub-folders in sorted order (torchvision's convention) and the
    folder names are the class names. With ``classnames`` class ``i`` is read from the folder named after it
    (as is, sanitised with :func:`safe_dirname`, or synthrec's ``000_name`` form) and gets label ``i``.
    An undecodable image raises :class:`DataError` when read, or is dropped at load time with a logged warning
    when ``skip_corrupt`` is true.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist",
                        "pass a folder with one sub-folder of images per class")
    folders = class_folders(root)
    if not folders:
        raise DataError(f"image folder {root} has no class sub-folders",
                        "put each class's images in its own sub-folder: root/<class>/<image>")
    fix = "put each class's images in root/<class>/ (jpg, png, webp, ...)"
    if classnames is None:
        names = tuple(folders)
    else:
        names = tuple(classnames)
        folders = _match_folders(root, names, folders)
    paths, labels = index_class_folders(root, folders, what=f"the image folder {root}", fix=fix)
    from .base import FileImageDataset

    return FileImageDataset(paths, labels, skip_corrupt=skip_corrupt, name=name or root.name, split=split,
                            classnames=names, root=root)
