"""The output folder's plan file: what a folder was made for, written before any image.

``plan.json`` holds the settings that decide which images exist and what they look like (generator, steps, guidance,
size, dtype, scheduler, prompts, counts, seed, output format) and the shard plan. Re-running with the same plan
resumes; a different plan in the same folder is refused (it would mix two datasets), unless the caller asks to
overwrite. Settings that do not change the images (device, executor, workers) are left out on purpose, so a run may
resume on other hardware.

Two speed settings can change an image's last bits: the batch size (batched matrix products sum in another order)
and the CPU thread count. The first run records them under ``numerics`` (micro-batch and threads), and every later
run of the folder, with any executor, batch size or worker count, generates with the recorded ones: the images of
one folder never depend on how it was resumed.
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import RunFolderError
from .manifest import IMAGES_DIR, MANIFEST_DIR, complete_shards

log = logging.getLogger(__name__)

PLAN_FILE = "plan.json"
PLAN_VERSION = 1


def make_plan(settings: dict[str, Any], num_shards: int, num_units: int,
              numerics: dict[str, Any] | None = None) -> dict[str, Any]:
    plan = {"plan_version": PLAN_VERSION, "config_hash": _io.stable_hash(settings), "num_shards": num_shards,
            "num_units": num_units, "settings": settings}
    if numerics is not None:
        plan["numerics"] = numerics
    return plan


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, Any, Any] | None:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return key, old.get(key), new.get(key)
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def prepare_folder(out_dir: str | Path, plan: dict[str, Any], overwrite: bool = False) -> dict[str, Any]:
    """Write ``plan.json`` into a new folder, accept the same plan, refuse another (or wipe it with overwrite).
    Returns the plan in force: an accepted earlier plan keeps its recorded ``numerics``.

    Another plan is refused only when the folder holds complete shards: with none, nothing could be mixed or lost,
    so a run that failed before its first shard (a typo in the model id, say) can be fixed and rerun in place.
    """
    out_dir = Path(out_dir)
    path = out_dir / PLAN_FILE
    if overwrite:
        clear_outputs(out_dir)
    done = complete_shards(out_dir)
    if path.is_file():
        try:
            old = _io.read_json(path)
        except (OSError, ValueError):
            old = None
        if old is not None and old.get("config_hash") == plan["config_hash"] \
                and old.get("num_shards") == plan["num_shards"]:
            if "numerics" not in old and "numerics" in plan:  # written by an older version: record them now
                old = {**old, "numerics": plan["numerics"]}
                _io.write_json(path, old)
            return old
        if done:
            if old is None:
                raise RunFolderError(f"{path} is damaged", "generate into a new folder, or pass overwrite=True")
            diff = _first_difference(old.get("settings", {}), plan["settings"])
            what = (f"setting {diff[0]!r} changed from {_short(diff[1])} to {_short(diff[2])}" if diff
                    else "its shard plan changed")
            raise RunFolderError(f"{out_dir} holds images made with another plan: {what}",
                                 "generate into a new folder, or pass overwrite=True to delete them and start again")
        log.info("generate: %s had another plan but no complete shard; starting over with the new plan", out_dir)
        clear_outputs(out_dir)
    elif done:
        raise RunFolderError(f"{out_dir} holds generated shards but no {PLAN_FILE}, so their plan is unknown",
                             "generate into a new folder, or pass overwrite=True to delete them")
    _io.write_json(path, plan)
    return plan


def clear_outputs(out_dir: str | Path) -> None:
    """Delete what generation wrote (plan, images, manifests) and nothing else."""
    out_dir = Path(out_dir)
    # Manifests first: a crash half-way leaves images without manifests, which reads as "not done", never as done.
    if (out_dir / MANIFEST_DIR).is_dir():
        shutil.rmtree(out_dir / MANIFEST_DIR)
    (out_dir / PLAN_FILE).unlink(missing_ok=True)
    if (out_dir / IMAGES_DIR).is_dir():
        shutil.rmtree(out_dir / IMAGES_DIR)
