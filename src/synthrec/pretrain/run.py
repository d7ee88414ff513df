"""``pretrain``: make (or open) a pre-training set, then train a timm backbone on it, supervised or MoCo v2.

The plain Python entry point is :func:`pretrain`; the CLI and ``synthrec run`` call it. Under ``torchrun`` every
process calls it and they train as one DDP job; only rank 0 writes checkpoints.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .. import _io
from ..errors import ConfigError
from ..config.schema import PretrainConfig
from .data import ShardSet, ShardStream, epoch_seed, open_set
from .loop import LoopSettings, init_distributed, run_loop, seed_everything
from .models import load_weights_into, train_transform
from .presets import resolve_recipe
from .sets import build_set, check_classnames

log = logging.getLogger(__name__)


def prepare_set(cfg: PretrainConfig, run_dir: str | Path, seed: int = 0, overwrite: bool = False) -> ShardSet:
    if cfg.data is not None:
        shard_set = open_set(cfg.data)
    elif cfg.set is None:
        raise ConfigError("pretrain has no data", "give pretrain.set (a synthetic set to make) or pretrain.data "
                          "(a set folder)")
    else:
        folder = Path(cfg.set.folder) if cfg.set.folder else Path(run_dir) / "set"
        shard_set = build_set(cfg.set, folder, seed, overwrite=overwrite)
    check_classnames(list(shard_set.classnames))
    return shard_set


def pretrain(cfg: PretrainConfig, run_dir: str | Path, seed: int = 0, *, overwrite: bool = False,
             shard_set: ShardSet | None = None, stop_after_epochs: int | None = None) -> dict:
    """Pre-train as ``cfg`` says; checkpoints and ``history.json`` go to ``run_dir``. Returns the run's summary.

    ``shard_set`` skips making/opening the set (the glyph experiment passes sets it made once);
    ``stop_after_epochs`` stops after that many new epochs, as a kill would (tests; a rerun resumes).
    """
    run_dir = Path(run_dir)
    dist = init_distributed(cfg.device)
    shard_set = shard_set or prepare_set(cfg, run_dir, seed, overwrite)
    recipe = resolve_recipe(cfg.preset_name(), cfg.recipe)
    seed_everything(epoch_seed(seed, 4242))  # the initial weights depend on the seed alone
    if cfg.method == "supervised":
        from .supervised import SupervisedTask

        task = SupervisedTask.create(cfg.model, shard_set.num_classes, cfg.model_kwargs, recipe)
        backbone, transform = task.module, train_transform(task.module, cfg.image_size, recipe)
        num_classes = shard_set.num_classes
    elif cfg.method == "mocov2":
        from .moco import MoCoTask, moco_transform

        task = MoCoTask.create(cfg.model, cfg.model_kwargs, recipe)
        backbone, transform = task.module.backbone, moco_transform(task.module.backbone, cfg.image_size, recipe)
        num_classes = 0
    else:  # the schema forbids it; kept for API callers that build configs by hand
        raise ConfigError(f"unknown pre-training method {cfg.method!r}", "use supervised or mocov2")
    init_meta = None
    if cfg.init:
        init_meta = load_weights_into(backbone, cfg.init, model_name=cfg.model)
        if cfg.method == "mocov2":
            task.key_encoder.load_state_dict(task.module.state_dict())
    stream = ShardStream(shard_set, transform, seed=seed, shuffle_buffer=cfg.shuffle_buffer, rank=dist.rank,
                         world_size=dist.world_size)
    meta = {"model": cfg.model, "model_kwargs": cfg.model_kwargs, "num_classes": num_classes,
            "classnames": list(shard_set.classnames), "method": cfg.method, "image_size": cfg.image_size,
            "recipe": recipe.model_dump(mode="json"), "preset": cfg.preset_name(), "init": cfg.init,
            "init_from": (init_meta or {}).get("model"), "set": shard_set.folder, "set_images": shard_set.num_images,
            "seed": seed, "world_size": dist.world_size}
    key = _io.stable_hash({k: meta[k] for k in ("model", "model_kwargs", "method", "image_size", "recipe", "init",
                                                "seed")} | {"shards": list(shard_set.shards)})
    settings = LoopSettings(run_dir=run_dir, recipe=recipe, base_lr=recipe.base_lr(from_init=bool(cfg.init)),
                            seed=seed, num_workers=cfg.num_workers, device=cfg.device, precision=cfg.precision,
                            checkpoint_every=cfg.checkpoint_every, meta=meta, settings_key=key)
    log.info("pretrain: %s %s on %d images of %d classes, preset %s, %d epochs, batch %d, lr %.3g", cfg.method,
             cfg.model, shard_set.num_images, shard_set.num_classes, cfg.preset_name(), recipe.epochs,
             recipe.batch_size, settings.base_lr)
    result = run_loop(task, stream, settings, dist, stop_after_epochs=stop_after_epochs)
    return {**result, "run_dir": str(run_dir), "images": shard_set.num_images, "classes": shard_set.num_classes}
