"""``synthrec demo pretrain``: the paper's pre-training tables (Tables 8-11) in miniature, offline on CPU.

Downstream task: the real handwritten digits (scikit-learn ``load_digits``): fine-tune on the pool split (all of
it, 1/4 and 1/16), test on the test split. Pre-training sets (:mod:`.glyph_sets`): downstream-aware synthetic digits,
downstream-agnostic synthetic letters, and "real" letters from the world's renderer, at 1x/2x/4x of ``unit``
images. Backbones: a tiny timm ResNet (resnet18 with one block per stage, 16-128 channels) and a tiny timm ViT
(vit_tiny with 4x4 patches on 16x16 inputs, 3 blocks of width 48, average-pooled tokens). Per seed, the grid is:

* ResNet, supervised: scratch; synthetic-aware 1x/2x/4x (``aware`` preset); synthetic-agnostic 1x (``agnostic``);
  real-agnostic 1x; real-agnostic 1x then synthetic-aware 1x (the paper's "IN-1K init, then synthetic");
* ResNet, MoCo v2: synthetic-agnostic 1x (``mocov2``);
* ViT, supervised (``deit`` preset): scratch; synthetic-agnostic 1x; real-agnostic 1x.

Miniature recipe changes, the same for every row (so rows stay comparable): 10 epochs instead of 90-300, batch
32, no horizontal flip (a mirrored glyph is another glyph), random resized crops of at least half the image
(``CROP_SCALE``; MoCo keeps lightly's views), learning rates raised for runs of a few dozen steps (aware AdamW
1e-3 / 1e-4 from init; agnostic SGD 0.05 / 0.005; DeiT AdamW 2e-3 with 1 warm-up epoch and without DeiT's heavy
augmentation or crops (``RECIPES``); MoCo v2 SGD 0.03, queue
256, key momentum 0.99, head 128 -> 64). Fine-tuning follows the paper: the CIFAR-100 SGD recipe for the ResNet
(lr raised to 0.1, milestones 60/120/160 of 200 scaled to the run) and the
light DeiT recipe for the ViT (as above, twice the ResNet's epochs). Every number the report shows comes from this run.
"""
from __future__ import annotations

import logging
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import _io
from ..config.schema import PretrainConfig
from .glyph_sets import GlyphSetSize, real_set, synthetic_set

log = logging.getLogger("synthrec")

MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "ResNet": ("resnet18", {"layers": [1, 1, 1, 1], "channels": [16, 32, 64, 128], "stem_width": 16}),
    # Average-pooled tokens rather than the class token: scratch on 80% of the digits pool, scored on the other
    # 20%, went from 28% to 45% top-1 after 5 epochs (lr 3e-3, no crops; see RECIPES["deit"]).
    "ViT": ("vit_tiny_patch16_224", {"img_size": 16, "patch_size": 4, "embed_dim": 48, "depth": 3, "num_heads": 3,
                                     "global_pool": "avg"}),
}
IMAGE_SIZE = 16
FRACTIONS = (1.0, 0.25, 0.0625)


@dataclass(frozen=True)
class DemoSize:
    sets: GlyphSetSize
    pretrain_epochs: int
    finetune_epochs: int
    min_steps: int


FULL = DemoSize(GlyphSetSize(unit=200, le_per_class_digits=5, le_per_class_letters=2, steps=8),
                pretrain_epochs=10, finetune_epochs=5, min_steps=60)
QUICK = DemoSize(GlyphSetSize(unit=40, le_per_class_digits=2, le_per_class_letters=1, steps=4),
                 pretrain_epochs=1, finetune_epochs=1, min_steps=4)


@dataclass(frozen=True)
class PretrainRun:
    name: str
    model: str
    method: str
    data: str           # syn-aware | syn-agnostic | real-agnostic
    multiple: int
    preset: str
    init_from: str | None = None


RUNS: tuple[PretrainRun, ...] = (
    PretrainRun("syn-aware 1x", "ResNet", "supervised", "syn-aware", 1, "aware"),
    PretrainRun("syn-aware 2x", "ResNet", "supervised", "syn-aware", 2, "aware"),
    PretrainRun("syn-aware 4x", "ResNet", "supervised", "syn-aware", 4, "aware"),
    PretrainRun("syn-agnostic 1x", "ResNet", "supervised", "syn-agnostic", 1, "agnostic"),
    PretrainRun("MoCo v2 syn-agnostic 1x", "ResNet", "mocov2", "syn-agnostic", 1, "mocov2"),
    PretrainRun("real-agnostic 1x", "ResNet", "supervised", "real-agnostic", 1, "agnostic"),
    PretrainRun("real-agnostic 1x, then syn-aware 1x", "ResNet", "supervised", "syn-aware", 1, "aware",
                init_from="real-agnostic 1x"),
    PretrainRun("syn-agnostic 1x", "ViT", "supervised", "syn-agnostic", 1, "deit"),
    PretrainRun("real-agnostic 1x", "ViT", "supervised", "real-agnostic", 1, "deit"),
)

# Random resized crops keep at least half the image (ImageNet's 8% of a 16x16 glyph is a 4x4 smudge): measured on
# this machine, scratch fine-tuning of the ResNet on the digits pool went from 18.5% to 30.7% top-1 after 1 epoch and
# from 41% to 64% after 5 (lr 0.02). The same floor for every supervised recipe, pre-training and fine-tuning.
CROP_SCALE = (0.5, 1.0)
RECIPES: dict[str, dict[str, Any]] = {
    "aware": {"lr": 1e-3, "lr_from_init": 1e-4, "scale": CROP_SCALE},
    "agnostic": {"lr": 0.05, "lr_from_init": 0.005, "scale": CROP_SCALE},
    # The DeiT optimiser and schedule without its heavy augmentation (RandAugment, Mixup/CutMix, random erasing,
    # label smoothing, crops), like the ResNet's recipes: for ~100 steps on 16x16 glyphs it kept the tiny ViT at
    # chance. Scratch fine-tuning on 80% of the digits pool, scored on the pool's other 20% (8 epochs, avg pool):
    # 43% with crops of at least half the image, 63% without; the DeiT augmentation (5 epochs, lr 1e-3): 7%.
    "deit": {"lr": 2e-3, "lr_reference_batch": None, "warmup_epochs": 1, "min_lr": 1e-5, "scale": (1.0, 1.0),
             "auto_augment": None, "mixup": 0.0, "cutmix": 0.0, "reprob": 0.0, "label_smoothing": 0.0},
    "mocov2": {"lr": 0.03, "lr_from_init": 0.003, "queue_size": 256, "key_momentum": 0.99, "proj_hidden_dim": 128,
               "proj_dim": 64},
}
# Fine-tuning: the paper's CIFAR-100 SGD recipe for the ResNet (lr 0.1 for a run of a few dozen steps: 64% -> 90%
# scratch top-1 after 5 epochs, measured as above), the light DeiT recipe above for the ViT.
TRANSFER_PRESETS = {"ResNet": ("transfer", {"lr": 0.1, "scale": CROP_SCALE}), "ViT": ("deit", RECIPES["deit"])}
# The ViT fine-tunes twice as many epochs as the ResNet: from scratch it needs them (45% -> 63% held-out top-1 from 5
# to 8 epochs, measured as above), and at its size they cost seconds.
FINETUNE_EPOCH_FACTOR = {"ResNet": 1, "ViT": 2}


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-").replace("--", "-")


def pretrain_config(run: PretrainRun, size: DemoSize, init: str | None) -> PretrainConfig:
    model, kwargs = MODELS[run.model]
    recipe = {**RECIPES[run.preset], "epochs": size.pretrain_epochs, "batch_size": 32, "hflip": 0.0}
    return PretrainConfig(data="(made by the demo)", method=run.method, model=model, model_kwargs=kwargs,
                          image_size=IMAGE_SIZE, preset=run.preset, recipe=recipe, init=init, num_workers=0,
                          shuffle_buffer=500, device="cpu", precision="fp32")


def get_set(run: PretrainRun, size: DemoSize, cache: Path):
    kind = run.data.split("-", 1)[1]
    if run.data.startswith("syn"):
        return synthetic_set(kind, run.multiple, size.sets, cache)
    return real_set(kind, run.multiple, size.sets, cache)


def set_key(run: PretrainRun) -> tuple[str, int]:
    return run.data, run.multiple


def run_seed(out: Path, seed: int, size: DemoSize, sets: dict[tuple[str, int], Any], digits) -> dict:
    from ..transfer import TransferConfig
    from ..transfer.run import run_transfer
    from .run import pretrain

    per_model: dict[str, Any] = {}
    for model_key, (model, kwargs) in MODELS.items():
        checkpoints: dict[str, str] = {}
        curves: dict[str, list] = {}
        for run in (r for r in RUNS if r.model == model_key):
            run_dir = out / f"seed{seed}" / model_key / slug(run.name)
            init = checkpoints[run.init_from] if run.init_from else None
            result = pretrain(pretrain_config(run, size, init), run_dir, seed=seed, shard_set=sets[set_key(run)])
            checkpoints[run.name] = result["checkpoint"]
            curves[run.name] = result["history"]
        cfg = TransferConfig(model=model, model_kwargs=kwargs, image_size=IMAGE_SIZE, dataset="digits",
                             train_split="pool", test_split="test", fractions=list(FRACTIONS), seeds=[seed],
                             inits={"scratch": None, **checkpoints},
                             preset=TRANSFER_PRESETS[model_key][0],
                             recipe={**TRANSFER_PRESETS[model_key][1], "epochs": size.finetune_epochs * FINETUNE_EPOCH_FACTOR[model_key],
                                     "batch_size": 32, "hflip": 0.0},
                             min_steps=size.min_steps, num_workers=0, device="cpu", precision="fp32")
        result = run_transfer(cfg, out / f"seed{seed}" / model_key / "transfer", train_set=digits[0],
                              test_set=digits[1])
        per_model[model_key] = {"cells": result["cells"], "pretrain_curves": curves}
    return per_model


def run_pretrain_demo(out: str | Path = "runs/demo-pretrain", seeds: int = 3, quick: bool = False,
                      cache: str | Path | None = None, jobs: int = 1) -> Path:
    """Make the sets once (under ``cache``, default ``<out>/sets``), run every seed (``jobs`` seeds at a time, each
    in its own single-threaded process), write results and a report."""
    import torch

    from ..datasets import load_dataset
    from ..report.pretrain import write_pretrain_demo_report

    out = Path(out)
    size = QUICK if quick else FULL
    cache = Path(cache) if cache else out / "sets"
    torch.set_num_threads(1)  # tiny models: a second thread only spins on a shared 2-core machine
    t0 = time.perf_counter()
    # Every set first, once, in this process: a crash in generation loses no training, and seeds running at once
    # only read shards (making a set takes its generator folder's lock, which a second seed would find busy).
    sets = {set_key(run): get_set(run, size, cache) for run in RUNS}
    set_seconds = time.perf_counter() - t0
    digits = (load_dataset("digits", split="pool"), load_dataset("digits", split="test"))
    if jobs > 1 and seeds > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, seeds), mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {seed: pool.submit(run_seed, out, seed, size, sets, digits) for seed in range(seeds)}
            per_seed = {seed: f.result() for seed, f in futures.items()}
    else:
        per_seed = {seed: run_seed(out, seed, size, sets, digits) for seed in range(seeds)}
    summary = summarise(per_seed)
    summary.update(seconds=time.perf_counter() - t0, set_seconds=set_seconds, seeds=seeds, quick=quick, jobs=jobs,
                   size=asdict(size), fractions=list(FRACTIONS))
    _io.write_json(out / "results.json", summary)
    path = write_pretrain_demo_report(out, summary)
    log.info("pretrain demo finished in %.0f s; report: %s", summary["seconds"], path)
    return path


def summarise(per_seed: dict[int, dict]) -> dict:
    """Mean and spread over seeds of every (model, init, fraction) cell, plus the pre-training curves of seed 0."""
    table: dict[str, dict[str, dict[str, dict]]] = {}
    for seed, models in per_seed.items():
        for model_key, data in models.items():
            for cell in data["cells"].values():
                slot = table.setdefault(model_key, {}).setdefault(cell["init"], {})
                slot.setdefault(f"{cell['fraction']:g}", []).append(cell["top1"])
    stats = {m: {init: {f: {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                            "n": len(v), "values": v} for f, v in fr.items()}
                 for init, fr in inits.items()} for m, inits in table.items()}
    first = per_seed[min(per_seed)]
    return {"table": stats, "curves": {m: d["pretrain_curves"] for m, d in first.items()}}
