"""The pre-training setting for one run folder: ``<run_dir>/pretrain`` (set, checkpoints, curves) and
``<run_dir>/transfer`` (the transfer table). ``synthrec pretrain`` / ``synthrec transfer`` call the section
functions; ``synthrec run`` calls the stage runners (``run_pretrain_stage``, ``run_transfer_stage``) through the
stage table, where a pretrain section with neither ``set`` nor ``data`` trains on the run's own generated images.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..config.schema import PretrainConfig, TransferConfig
from ..errors import ConfigError
from ..report.pretrain import PRETRAIN_DIR, TRANSFER_DIR

log = logging.getLogger(__name__)


def pretrain_checkpoint(run_dir: str | Path) -> Path:
    return Path(run_dir) / PRETRAIN_DIR / "checkpoints" / "last.safetensors"


def run_pretrain_section(cfg: PretrainConfig | None, run_dir: str | Path, seed: int = 0, *,
                         overwrite: bool = False, shard_set=None) -> dict[str, Any]:
    from ..pretrain.run import pretrain

    if cfg is None:
        raise ConfigError("the config has no pretrain section", "add `pretrain:` (see docs/pretrain.md)")
    return pretrain(cfg, Path(run_dir) / PRETRAIN_DIR, seed=seed, overwrite=overwrite, shard_set=shard_set)


def transfer_inits(cfg: TransferConfig, run_dir: str | Path) -> dict[str, str | None]:
    """The config's inits; when it names none, scratch against this run's own pre-training checkpoint."""
    if "inits" in cfg.model_fields_set:
        return dict(cfg.inits)
    own = pretrain_checkpoint(run_dir)
    if not own.is_file():
        raise ConfigError(f"transfer names no inits and {own} does not exist",
                          "run `synthrec pretrain` on this config first, or list transfer.inits")
    return {"scratch": None, "synthetic pre-training": str(own)}


def run_transfer_section(cfg: TransferConfig | None, run_dir: str | Path, seed: int = 0) -> dict[str, Any]:
    from .run import run_transfer

    if cfg is None:
        raise ConfigError("the config has no transfer section", "add `transfer:` (see docs/pretrain.md)")
    update: dict[str, Any] = {"inits": transfer_inits(cfg, run_dir)}
    if "seeds" not in cfg.model_fields_set:
        update["seeds"] = [seed]
    return run_transfer(cfg.model_copy(update=update), Path(run_dir) / TRANSFER_DIR)


def run_pretrain_stage(ctx, folder: Path) -> dict:
    from ..pretrain.data import open_set
    from ..stages import stage_dir

    cfg = ctx.cfg.pretrain
    shard_set = None
    if cfg.set is None and cfg.data is None:  # the run's own generated images, its label space
        shard_set = open_set(stage_dir(ctx.run_dir, "generate"), classnames=list(ctx.labels.names))
    result = run_pretrain_section(cfg, ctx.run_dir, ctx.cfg.seed, shard_set=shard_set)
    return {"checkpoint": result["checkpoint"], "images": result["images"], "epochs": result["epochs_done"]}


def run_transfer_stage(ctx, folder: Path) -> dict:
    result = run_transfer_section(ctx.cfg.transfer, ctx.run_dir, ctx.cfg.seed)
    return {"cells": len(result["cells"])}
