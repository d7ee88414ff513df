"""The pre-training setting end to end for one run folder: ``<run_dir>/pretrain`` (set, checkpoints, curves),
``<run_dir>/transfer`` (the transfer table), and a report with both. The CLI commands and ``synthrec run`` call
these functions."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import ConfigError
from ..pretrain.curves import plot_history
from .config import PretrainTransferConfig, TransferConfig

log = logging.getLogger(__name__)

PRETRAIN_DIR, TRANSFER_DIR = "pretrain", "transfer"


def pretrain_checkpoint(run_dir: str | Path) -> Path:
    return Path(run_dir) / PRETRAIN_DIR / "checkpoints" / "last.safetensors"


def run_pretrain_section(cfg: PretrainTransferConfig, *, overwrite: bool = False, shard_set=None) -> dict[str, Any]:
    from ..pretrain.run import pretrain

    if cfg.pretrain is None:
        raise ConfigError("the config has no pretrain section", "add `pretrain:` (see docs/pretrain.md)")
    return pretrain(cfg.pretrain, Path(cfg.run_dir) / PRETRAIN_DIR, seed=cfg.seed, overwrite=overwrite,
                    shard_set=shard_set)


def transfer_inits(cfg: TransferConfig, run_dir: str | Path) -> dict[str, str | None]:
    """The config's inits; when it names none, scratch against this run's own pre-training checkpoint."""
    if "inits" in cfg.model_fields_set:
        return dict(cfg.inits)
    own = pretrain_checkpoint(run_dir)
    if not own.is_file():
        raise ConfigError(f"transfer names no inits and {own} does not exist",
                          "run `synthrec pretrain` on this config first, or list transfer.inits")
    return {"scratch": None, "synthetic pre-training": str(own)}


def run_transfer_section(cfg: PretrainTransferConfig) -> dict[str, Any]:
    from .run import run_transfer

    if cfg.transfer is None:
        raise ConfigError("the config has no transfer section", "add `transfer:` (see docs/pretrain.md)")
    tcfg = cfg.transfer.model_copy(update={"inits": transfer_inits(cfg.transfer, cfg.run_dir)})
    if tcfg.seeds == [0] and "seeds" not in cfg.transfer.model_fields_set:
        tcfg = tcfg.model_copy(update={"seeds": [cfg.seed]})
    return run_transfer(tcfg, Path(cfg.run_dir) / TRANSFER_DIR)


def write_setting_report(run_dir: str | Path) -> Path:
    """``report-pretrain.md``: pre-training curves (loss, lr per epoch) and the transfer table, from the files."""
    run_dir = Path(run_dir)
    lines = [f"# Pre-training and transfer: {run_dir.name}", ""]
    history_path = run_dir / PRETRAIN_DIR / "history.json"
    if history_path.is_file():
        history = _io.read_json(history_path)
        plot = plot_history({"pre-training": history}, run_dir / "pretrain_curves.png")
        lines += ["## Pre-training", "", "| epoch | loss | lr | images | seconds |", "|---|---|---|---|---|"]
        lines += [f"| {h['epoch']} | {h.get('loss', float('nan')):.4f} | {h['lr']:.3g} | {h['images']} | "
                  f"{h['seconds']:.1f} |" for h in history]
        lines += ["", f"![pre-training curves]({plot.name})", ""]
    table_path = run_dir / TRANSFER_DIR / "table.md"
    if table_path.is_file():
        results = _io.read_json(run_dir / TRANSFER_DIR / "results.json")
        lines += ["## Transfer (top-1 %, mean ± std over seeds)", "", f"model: `{results['model']}`", "",
                  table_path.read_text(encoding="utf-8")]
    path = run_dir / "report-pretrain.md"
    _io.write_text(path, "\n".join(lines) + "\n")
    return path
