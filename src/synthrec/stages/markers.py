"""Stage bookkeeping in a run folder: which stage is done, and for which settings.

Each stage writes ``<run_dir>/<stage>/stage.json`` last, holding a key: the hash of the settings that change its
output plus the keys of the stages it reads. A stage whose marker holds the current key is reused; any other
stage runs again. Generated images are the expensive part, so a changed generation key in a folder that already
holds images is refused unless the user asks to overwrite (nothing finished is lost by accident).
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import RunFolderError

log = logging.getLogger("synthrec")

MARKER = "stage.json"


def stage_dir(run_dir: str | Path, stage: str) -> Path:
    return Path(run_dir) / stage


def read_marker(run_dir: str | Path, stage: str) -> dict | None:
    return _io.read_json_or_none(stage_dir(run_dir, stage) / MARKER)


def is_done(run_dir: str | Path, stage: str, key: str) -> bool:
    marker = read_marker(run_dir, stage)
    return bool(marker) and marker.get("key") == key


def mark_done(run_dir: str | Path, stage: str, key: str, settings: Any, **extra: Any) -> None:
    _io.write_json(stage_dir(run_dir, stage) / MARKER,
                   {"stage": stage, "key": key, "settings": settings, "finished_at": time.time(), **extra})


def forget(run_dir: str | Path, *stages: str) -> None:
    """Mark stages not done (their output stays until they run again)."""
    for stage in stages:
        (stage_dir(run_dir, stage) / MARKER).unlink(missing_ok=True)


def remove_stale_temps(run_dir: str | Path) -> None:
    """Delete the temporaries (``.<name>.<random>.tmp``, see ``_io.atomic_path``) a killed run left in the run folder.
    Only while holding the folder's lock: another live process's temporaries would be its files in progress."""
    import os

    images = Path(run_dir) / "generate" / "images"  # millions of files: generate cleans its own (shards.py)
    for dirpath, dirnames, filenames in os.walk(run_dir):
        if Path(dirpath) == images:
            dirnames[:] = []
            continue
        for name in filenames:
            if name.startswith(".") and name.endswith(".tmp"):
                (Path(dirpath) / name).unlink(missing_ok=True)


def check_precious(run_dir: str | Path, stage: str, key: str, settings: Any, *, overwrite: bool = False) -> None:
    """Refuse, before anything runs, a config that would discard a precious stage's output."""
    folder = stage_dir(run_dir, stage)
    marker = read_marker(run_dir, stage)
    stale = marker is not None and marker.get("key") != key
    if overwrite or not (stale or (marker is None and _has_content(folder) and not _plan_matches(folder, key))):
        return
    changed = _changed_settings(marker.get("settings") if marker else None, settings)
    what = f" (changed: {', '.join(changed)})" if changed else ""
    raise RunFolderError(f"run folder {str(run_dir)!r} holds {stage} output made by a different config{what}",
                         "use a new run_dir, or pass --overwrite to discard it")


def prepare(run_dir: str | Path, stage: str, key: str, settings: Any, *, overwrite: bool = False,
            precious: bool = False, keep: tuple[str, ...] = ()) -> Path:
    """Make the stage folder ready to (re)run for ``key``.

    A finished stage with another key is cleared, unless it is ``precious`` (generated images): then the user
    must pass ``overwrite`` or choose another run folder. Sub-folders named in ``keep`` survive the clearing: caches
    addressed by content (the few-shot stage's generated sets), which stay valid whatever changed.
    """
    folder = stage_dir(run_dir, stage)
    marker = read_marker(run_dir, stage)
    stale = marker is not None and marker.get("key") != key
    if stale or (precious and marker is None and _has_content(folder) and not _plan_matches(folder, key)):
        if precious:
            check_precious(run_dir, stage, key, settings, overwrite=overwrite)
        log.info("%s: settings changed, clearing %s", stage, folder)
        _clear(folder, keep)
    folder.mkdir(parents=True, exist_ok=True)
    _io.write_json(folder / "stage.pending.json", {"stage": stage, "key": key, "settings": settings})
    return folder


def _clear(folder: Path, keep: tuple[str, ...]) -> None:
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir() if folder.is_dir() else ():
        if child.name in keep:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _has_content(folder: Path) -> bool:
    # Hidden files are locks and temporaries, never output.
    return folder.is_dir() and any(p.name != "stage.pending.json" and not p.name.startswith(".")
                                   for p in folder.iterdir())


def _plan_matches(folder: Path, key: str) -> bool:
    return (_io.read_json_or_none(folder / "stage.pending.json") or {}).get("key") == key


def _changed_settings(old: Any, new: Any, prefix: str = "") -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [prefix.rstrip(".")] if old != new and prefix else []
    out: list[str] = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            sub = _changed_settings(old.get(k), new.get(k), f"{prefix}{k}.")
            out.extend(sub or [f"{prefix}{k}"])
    return out
