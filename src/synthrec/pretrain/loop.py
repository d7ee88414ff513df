"""The epoch loop both pre-training trainers share: optimizer and schedule from the recipe, AMP on CUDA, DDP under
``torchrun``, a checkpoint at epoch ends, and exact resume.

A trainer supplies a :class:`Task`: its trainable module, the loss of one batch, what to do after an optimizer step
(MoCo's momentum update) and any extra state to checkpoint (MoCo's key encoder and queue). Everything random in an
epoch is seeded from ``(seed, epoch, rank)``, and the learning rate is a pure function of the position, so a run
resumed from the checkpoint of epoch ``k`` continues exactly as the uninterrupted run would.
"""
from __future__ import annotations

import logging
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from .. import _io
from ..errors import RunFolderError
from .checkpoint import load_checkpoint, save_checkpoint
from .data import ShardStream, epoch_seed, make_loader
from .presets import Recipe, lr_at

log = logging.getLogger(__name__)

CHECKPOINT = "last.safetensors"


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> Dist:
    """Join the process group ``torchrun`` describes in the environment (gloo on CPU, nccl on CUDA); else single."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        use_cuda = torch.cuda.is_available() and device in ("auto", "cuda")
        if use_cuda:
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(rank, world, local)


def resolve_device(device: str, dist: Dist) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and dist.world_size > 1:
        device = f"cuda:{dist.local_rank}"
    return torch.device(device)


def autocast_for(device: torch.device, precision: str):
    """(autocast context, GradScaler or None): fp16 with a scaler on CUDA by default, fp32 on CPU."""
    if precision == "auto":
        precision = "fp16" if device.type == "cuda" else "fp32"
    if precision == "fp32":
        return nullcontext, None
    dtype = torch.float16 if precision == "fp16" else torch.bfloat16
    scaler = torch.amp.GradScaler(device.type) if (precision == "fp16" and device.type == "cuda") else None
    return (lambda: torch.autocast(device.type, dtype=dtype)), scaler


def build_optimizer(params, recipe: Recipe, lr: float):
    decay, no_decay = [], []
    for p in params:
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": recipe.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(recipe.betas))
    return torch.optim.SGD(groups, lr=lr, momentum=recipe.momentum)


def optimizer_step(loss: torch.Tensor, optimizer, scaler) -> None:
    """Backward and step, through the GradScaler when fp16 AMP uses one."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()


def seed_everything(seed: int) -> None:
    import numpy as np

    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))


class Task(Protocol):
    module: torch.nn.Module            # what the optimizer trains (wrapped in DDP when distributed)

    def loss(self, module: torch.nn.Module, batch: Any, device: torch.device) -> tuple[torch.Tensor, dict]: ...

    def after_step(self) -> None: ...

    def checkpoint_state(self) -> tuple[dict, dict[str, dict]]: ...

    def load_state(self, model: dict, extra: dict[str, dict]) -> None: ...


@dataclass
class LoopSettings:
    run_dir: Path
    recipe: Recipe
    base_lr: float
    seed: int = 0
    num_workers: int = 0
    device: str = "auto"
    precision: str = "auto"
    checkpoint_every: int = 1
    meta: dict = field(default_factory=dict)     # written into every checkpoint (model name, classes, ...)
    settings_key: str = ""                        # a resumed checkpoint must carry the same key


def run_loop(task: Task, stream: ShardStream, s: LoopSettings, dist: Dist = Dist(),
             stop_after_epochs: int | None = None) -> dict:
    """Train to ``recipe.epochs`` (or stop early after ``stop_after_epochs`` new epochs, as a kill would);
    returns the final meta (history, position)."""
    device = resolve_device(s.device, dist)
    task.module.to(device)
    for extra in getattr(task, "extra_modules", lambda: [])():
        extra.to(device)
    optimizer = build_optimizer(task.module.parameters(), s.recipe, s.base_lr)
    autocast, scaler = autocast_for(device, s.precision)
    ckpt_path = s.run_dir / "checkpoints" / CHECKPOINT
    start, history = 0, []
    if ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path)
        if ckpt.meta.get("settings_key") != s.settings_key:
            raise RunFolderError(f"{ckpt_path} was written by a run with other settings",
                                 "use a new run_dir, or delete its checkpoints folder to start over")
        task.load_state(ckpt.model, ckpt.extra)
        task.module.to(device)
        optimizer.load_state_dict(ckpt.optimizer)
        start, history = int(ckpt.meta["position"]["epoch"]), list(ckpt.meta.get("history", []))
        log.info("pretrain: resuming at epoch %d of %d from %s", start, s.recipe.epochs, ckpt_path)
    module = task.module
    if dist.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        module = DistributedDataParallel(task.module, device_ids=[device.index] if device.type == "cuda" else None)
    per_rank = stream.shard_set.num_images / dist.world_size
    steps_per_epoch = max(1, math.ceil(per_rank / s.recipe.batch_size))
    done_now = 0
    for epoch in range(start, s.recipe.epochs):
        t0 = time.perf_counter()
        seed_everything(epoch_seed(s.seed, epoch, dist.rank, 99))
        stream.set_epoch(epoch)
        loader = make_loader(stream, s.recipe.batch_size, s.num_workers)
        module.train()
        totals: dict[str, float] = {}
        images, steps, lr = 0, 0, s.base_lr
        join = _join(module) if dist.world_size > 1 else nullcontext()
        with join:
            for i, batch in enumerate(loader):
                lr = lr_at(s.recipe, s.base_lr, epoch + min(i / steps_per_epoch, 1.0))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with autocast():
                    loss, stats = task.loss(module, batch, device)
                optimizer_step(loss, optimizer, scaler)
                task.after_step()
                n = len(batch[1])
                images += n
                steps += 1
                for k, v in {"loss": float(loss.detach()), **stats}.items():
                    totals[k] = totals.get(k, 0.0) + v * n
        row = {"epoch": epoch + 1, "lr": lr, "images": images, "steps": steps,
               "seconds": round(time.perf_counter() - t0, 3),
               **{k: v / max(1, images) for k, v in totals.items()}}
        history.append(row)
        log.info("pretrain epoch %d/%d: loss %.4f, %d images, %.1f s", epoch + 1, s.recipe.epochs,
                 row.get("loss", float("nan")), images, row["seconds"])
        last = epoch + 1 == s.recipe.epochs
        done_now += 1
        stopping = stop_after_epochs is not None and done_now >= stop_after_epochs
        if dist.is_main and ((epoch + 1) % s.checkpoint_every == 0 or last or stopping):
            model_state, extra = task.checkpoint_state()
            save_checkpoint(ckpt_path, model_state, {**s.meta, "settings_key": s.settings_key,
                                                     "position": {"epoch": epoch + 1, "epochs": s.recipe.epochs},
                                                     "history": history}, optimizer.state_dict(), extra)
        if dist.world_size > 1:
            torch.distributed.barrier()
        if stopping and not last:
            break
    if dist.is_main:
        _io.write_json(s.run_dir / "history.json", history)
    return {"history": history, "checkpoint": str(ckpt_path), "epochs_done": len(history)}


def _join(module):
    from torch.distributed.algorithms.join import Join

    # Ranks may get a shard more or less than others; Join lets the early finishers shadow the collectives.
    return Join([module])
