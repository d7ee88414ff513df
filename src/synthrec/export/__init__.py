"""Export a run's images (the filter's selection by default) into the formats other tools read.

* ``imagefolder``: one folder per class (sanitised names in class order), for torchvision's ImageFolder.
* ``webdataset``: tar shards with the image, ``cls`` (class id) and ``json`` (class name, prompt, score).
* ``hf``: a Hugging Face dataset with a ClassLabel ``label``, written by ``datasets`` in the hub's layout;
  ``datasets.load_dataset(OUT)`` opens it and ``push_to_hub="user/name"`` uploads it as well.
* ``parquet``: one table with the image bytes, class id and class name per row (pandas, DuckDB, pyarrow).

Each export also writes ``export.json`` (what was exported, from where) and is listed in the run folder's
``exports.json``, which the report links to.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import ConfigError, RunFolderError
from .source import SELECTIONS, ExportRecord, RunImages, read_run_images
from .writers import WRITERS

FORMATS = tuple(WRITERS)
EXPORTS_FILE = "exports.json"
EXPORT_INFO = "export.json"


@dataclass(frozen=True)
class ExportResult:
    out: Path
    format: str
    selection: str
    images: int
    per_class: dict[str, int]
    details: dict[str, Any]


def export_run(run_dir: str | os.PathLike, format: str, out: str | os.PathLike, *, selection: str = "filtered",
               overwrite: bool = False, **options: Any) -> ExportResult:
    """Write the images of ``run_dir`` to ``out`` in ``format`` (one of :data:`FORMATS`).

    ``selection``: ``filtered`` (the filter's kept images, the default) or ``all``. ``options`` go to the writer:
    ``shard_size`` (webdataset), ``push_to_hub`` and ``private`` (hf). ``out`` must be new or empty, unless
    ``overwrite`` (then it is replaced once the new export is complete).
    """
    if format not in WRITERS:
        raise ConfigError(f"unknown export format {format!r}", f"use one of {', '.join(FORMATS)}")
    run_dir, out = Path(run_dir), Path(out)
    images = read_run_images(run_dir, selection)  # checks the run folder before anything is written
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"export target {str(out)!r} is a file", "choose a folder for --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise RunFolderError(f"export target {str(out)!r} is not empty", "choose a new folder, or pass --overwrite")
    if out.resolve().is_relative_to(run_dir.resolve() / "generate"):
        raise RunFolderError("the export target is inside the run's generate folder", "choose a folder outside it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        details = WRITERS[format](images, staging, **options)
        per_class = dict(zip(images.classnames, images.per_class()))
        info = {"format": format, "selection": selection, "run_dir": str(run_dir.resolve()), "images": len(images),
                "classes": images.classnames, "per_class": per_class, "exported_at": time.time(), **details}
        _io.write_json(staging / EXPORT_INFO, info)
        _replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _record(run_dir, {"format": format, "selection": selection, "out": str(out.resolve()), "images": len(images)})
    return ExportResult(out, format, selection, len(images), per_class, details)


def _replace_folder(new: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _record(run_dir: Path, entry: dict[str, Any]) -> None:
    path = run_dir / EXPORTS_FILE
    entries = list_exports(run_dir)
    entries = [e for e in entries if e.get("out") != entry["out"]] + [entry]
    _io.write_json(path, entries)


def list_exports(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The exports made from ``run_dir`` (newest last), as recorded in its ``exports.json``."""
    path = Path(run_dir) / EXPORTS_FILE
    if not path.is_file():
        return []
    try:
        data = _io.read_json(path)
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


__all__ = ["EXPORTS_FILE", "ExportRecord", "ExportResult", "FORMATS", "RunImages", "SELECTIONS", "export_run",
           "list_exports", "read_run_images"]
