"""``transfer``: fine-tune every init the config names (scratch, synthetic-pretrained, real-pretrained) on the same
real dataset, at each fraction and seed, and tabulate top-1 with its spread over seeds.

Finished cells are kept in ``results.json`` (written after each one), so an interrupted table resumes where it
stopped. The backbone architecture comes from the first checkpoint unless the config names it.
"""
from __future__ import annotations

import logging
import statistics
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import ConfigError
from ..pretrain.checkpoint import read_meta
from ..pretrain.data import epoch_seed
from ..pretrain.loop import seed_everything
from ..pretrain.presets import resolve_recipe
from ..config.schema import TransferConfig
from .finetune import build_model, finetune

log = logging.getLogger(__name__)


def resolve_architecture(cfg: TransferConfig) -> tuple[str, dict, int]:
    """(model name, model_kwargs, image size): the config's, else the first checkpoint's."""
    first = next((read_meta(p) for p in cfg.inits.values() if p is not None), None) or {}
    model = cfg.model or first.get("model")
    if model is None:
        raise ConfigError("transfer does not know which model to fine-tune",
                          "set transfer.model (a timm name), or give a pre-training checkpoint in transfer.inits")
    kwargs = cfg.model_kwargs if cfg.model_kwargs is not None else first.get("model_kwargs", {})
    size = cfg.image_size or first.get("image_size") or 224
    return model, dict(kwargs), int(size)


def load_splits(cfg: TransferConfig):
    from ..datasets import get_dataset_info, load_dataset, load_image_folder

    if cfg.image_folder is not None:
        train = load_image_folder(cfg.image_folder)
        return train, load_image_folder(cfg.test_image_folder, classnames=train.classnames)
    info = get_dataset_info(cfg.dataset)
    train_split = cfg.train_split or info.fewshot_train_split or next(
        (s for s in info.splits if s != info.test_split), info.test_split)
    train = load_dataset(cfg.dataset, cfg.root, split=train_split, download=cfg.download)
    test = load_dataset(cfg.dataset, cfg.root, split=cfg.test_split or info.test_split, download=cfg.download)
    return train, test


def cell_key(init: str, fraction: float, seed: int) -> str:
    return f"{init}|{fraction:g}|{seed}"


def run_transfer(cfg: TransferConfig, run_dir: str | Path, *, train_set=None, test_set=None) -> dict[str, Any]:
    """Fill the transfer table; returns ``{"cells": {...}, "table": [...], "model": ...}`` (also written to
    ``run_dir/results.json`` and ``run_dir/table.md``)."""
    run_dir = Path(run_dir)
    model_name, model_kwargs, image_size = resolve_architecture(cfg)
    recipe = resolve_recipe(cfg.preset, cfg.recipe)
    if train_set is None:
        train_set, test_set = load_splits(cfg)
    results_path = run_dir / "results.json"
    settings = {"model": model_name, "model_kwargs": model_kwargs, "image_size": image_size,
                "recipe": recipe.model_dump(mode="json"), "min_steps": cfg.min_steps, "inits": cfg.inits,
                "train": [getattr(train_set, "name", None), getattr(train_set, "split", None), len(train_set)],
                "test": [getattr(test_set, "name", None), getattr(test_set, "split", None), len(test_set)]}
    key = _io.stable_hash(settings)
    done = _io.read_json(results_path) if results_path.is_file() else {}
    cells = done.get("cells", {}) if done.get("key") == key else {}
    for name, init in cfg.inits.items():
        for fraction in cfg.fractions:
            for seed in cfg.seeds:
                ck = cell_key(name, fraction, seed)
                if ck in cells:
                    continue
                seed_everything(epoch_seed(seed, 4243))  # the new head's weights depend on the seed alone
                model = build_model(model_name, len(train_set.classnames), model_kwargs, init)
                out = finetune(model, train_set, test_set, recipe, image_size, seed=seed, min_steps=cfg.min_steps,
                               num_workers=cfg.num_workers, device=cfg.device, precision=cfg.precision,
                               fraction=fraction)
                cells[ck] = {"init": name, "checkpoint": init, "fraction": fraction, "seed": seed, **out}
                log.info("transfer %s, fraction %g, seed %d: top-1 %.2f%% (%d images, %.0f s)", name, fraction,
                         seed, 100 * out["top1"], out["train_images"], out["seconds"])
                _io.write_json(results_path, {"key": key, "settings": settings, "cells": cells})
    table = summarise(cells, list(cfg.inits), cfg.fractions)
    result = {"key": key, "settings": settings, "cells": cells, "table": table, "model": model_name}
    _io.write_json(results_path, result)
    _io.write_text(run_dir / "table.md", table_markdown(table, cfg.fractions))
    return result


def summarise(cells: dict[str, dict], inits: list[str], fractions: list[float]) -> list[dict]:
    rows = []
    for name in inits:
        row: dict[str, Any] = {"init": name}
        for f in fractions:
            vals = [c["top1"] for c in cells.values() if c["init"] == name and c["fraction"] == f]
            row[f"{f:g}"] = {"mean": statistics.fmean(vals) if vals else None,
                             "std": statistics.stdev(vals) if len(vals) > 1 else 0.0, "n": len(vals)}
        rows.append(row)
    return rows


def table_markdown(table: list[dict], fractions: list[float]) -> str:
    from ..report.pretrain import format_cell

    head = "| init | " + " | ".join(f"{f:g} of train" for f in fractions) + " |"
    lines = [head, "|" + "---|" * (len(fractions) + 1)]
    for row in table:
        lines.append(f"| {row['init']} | " + " | ".join(format_cell(row[f"{f:g}"]) for f in fractions) + " |")
    return "\n".join(lines) + "\n"
