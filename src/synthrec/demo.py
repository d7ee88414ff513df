"""``synthrec demo``: the paper's zero-shot experiment (Table 2) in the offline glyph world, on real digits.

Everything runs through the same stages and the same config schema as a GPU run with Stable Diffusion and CLIP;
only the backends differ (the shipped glyph diffusion pipeline, mini CLIP and LE model). Per seed:

* CLIP zero-shot: the mini CLIP's text head on the real test digits (scikit-learn ``load_digits``, test split);
* B / B+SCE: one basic domain prompt per class, heads tuned with CE or with 0.5 CE + 0.5 soft-target CE;
* LE / LE+SCE: Language Enhancement prompts from the shipped seq2seq model;
* LE+CF / LE+CF+SCE: the same images after the CLIP filter (keep p(intended) > 1/N);
* the ceiling: the same head tuned on the real pool digits (a linear probe on real data).

The results are whatever the run gives; the report states them with their spread over seeds.
"""
from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from . import _io, api
from .config import load_config

log = logging.getLogger("synthrec")

STRATEGIES = ("B", "B+SCE", "LE", "LE+SCE", "LE+CF", "LE+CF+SCE")


@dataclass(frozen=True)
class DemoSize:
    images_per_class: int
    le_prompts_per_class: int
    steps: int
    epochs: int


FULL = DemoSize(images_per_class=60, le_prompts_per_class=12, steps=15, epochs=30)
QUICK = DemoSize(images_per_class=12, le_prompts_per_class=3, steps=4, epochs=5)


def strategy_config(name: str, run_dir: Path, seed: int, size: DemoSize, cache_dir: Path) -> dict:
    from .glyph import world

    le = name.startswith("LE")
    prompts = ({"strategy": "le", "per_class": size.le_prompts_per_class,
                "prefix": world.LE_PREFIX,
                "le": {"model": "glyph", "input_format": world.LE_INPUT, "max_draws": 4 * size.le_prompts_per_class,
                       "max_new_tokens": 64}}
               if le else {"strategy": "basic", "template": world.BASIC_PROMPT})
    per_prompt = max(1, size.images_per_class // (size.le_prompts_per_class if le else 1))
    return {
        "run_dir": str(run_dir),
        "seed": seed,
        "labels": {"names": list(world.DIGIT_CLASSNAMES)},
        "prompts": prompts,
        "generate": {"generator": "glyph", "images_per_prompt": per_prompt, "steps": size.steps,
                     "batch_size": 250, "shard_size": 1000},
        "filter": {"enabled": "CF" in name, "encoder": "glyph"},
        "train": {"encoder": "glyph", "templates": list(world.ZERO_SHOT_TEMPLATES), "epochs": size.epochs,
                  "sce_weight": 0.5 if name.endswith("SCE") else 0.0, "cache_dir": str(cache_dir)},
        "evaluate": {"dataset": "digits", "split": "test"},
        "report": {"title": f"glyph world, {name}, seed {seed}"},
    }


# Which finished run a strategy can start from: same prompts and images, other filter/loss settings.
_FORK_FROM = {"B+SCE": ("B", ("labels", "prompts", "generate", "filter")),
              "LE+SCE": ("LE", ("labels", "prompts", "generate", "filter")),
              "LE+CF": ("LE", ("labels", "prompts", "generate")),
              "LE+CF+SCE": ("LE+CF", ("labels", "prompts", "generate", "filter"))}


def run_seed(out: Path, seed: int, size: DemoSize) -> dict:
    results: dict[str, dict] = {}
    cache_dir = out / "features"
    for name in STRATEGIES:
        run_dir = out / f"seed{seed}" / name.replace("+", "_")
        if name in _FORK_FROM and not (run_dir / "config.yaml").exists():
            src, stages = _FORK_FROM[name]
            api.fork_run(out / f"seed{seed}" / src.replace("+", "_"), run_dir, stages)
        t0 = time.perf_counter()
        cfg = load_config(data=strategy_config(name, run_dir, seed, size, cache_dir))
        api.run(cfg)
        metrics = _io.read_json(run_dir / "evaluate" / "metrics.json")
        kept = _io.read_parquet(run_dir / "filter" / "selection.parquet").num_rows
        results[name] = {"top1": metrics["heads"]["tuned"]["top1"], "baseline": metrics["heads"]["baseline"]["top1"],
                         "images": kept, "run_dir": str(run_dir), "seconds": time.perf_counter() - t0}
        log.info("demo seed %d: %s top-1 %.2f%% (zero-shot %.2f%%)", seed, name, 100 * results[name]["top1"],
                 100 * results[name]["baseline"])
    results["ceiling"] = real_probe(seed, size, cache_dir)
    return results


def real_probe(seed: int, size: DemoSize, cache_dir: Path) -> dict:
    """The same head and trainer on the real pool digits: the ceiling a perfect synthetic set could approach."""
    from .config import TrainConfig
    from .datasets import load_dataset
    from .evaluate import evaluate_heads
    from .features import encode_with_cache, image_sha256, InMemoryImage
    from .glyph import world
    from .train import train_head, zero_shot_weights

    encoder = api.get_encoder("glyph")
    pool = load_dataset("digits", split="pool")
    items = [(image_sha256(im), InMemoryImage(im, f"digits pool {i}")) for i, (im, _) in enumerate(pool)]
    feats = encode_with_cache(encoder, items, cache_dir, progress=False)
    labels = [lb for _, lb in pool]
    names, templates = list(world.DIGIT_CLASSNAMES), list(world.ZERO_SHOT_TEMPLATES)
    cfg = TrainConfig(encoder="glyph", templates=templates, epochs=size.epochs, sce_weight=0.0)
    result = train_head(feats, labels, zero_shot_weights(encoder, names, templates), cfg, seed=seed, progress=False)
    test = load_dataset("digits", split="test")
    metrics = evaluate_heads(encoder, {"real": result.head}, test, names, cache_dir, progress=False)
    return {"top1": metrics["heads"]["real"]["top1"], "images": len(labels)}


def run_demo(out: str | Path = "runs/demo", seeds: int = 1, quick: bool = False, ablations: bool = False) -> Path:
    from .demo_report import write_demo_report

    out = Path(out)
    size = QUICK if quick else FULL
    t0 = time.perf_counter()
    per_seed = {}
    for seed in range(seeds):
        per_seed[seed] = run_seed(out, seed, size)
    summary = summarise(per_seed)
    if ablations:
        from .demo_ablations import run_ablations

        summary["ablations"] = run_ablations(out, 0, size)
    summary.update(seconds=time.perf_counter() - t0, quick=quick, size=size.__dict__)
    _io.write_json(out / "results.json", summary)
    path = write_demo_report(out, summary)
    log.info("demo finished in %.0f s; report: %s", summary["seconds"], path)
    return path


def summarise(per_seed: dict[int, dict]) -> dict:
    rows = {}
    names = ["zero-shot", *STRATEGIES, "ceiling"]
    for name in names:
        if name == "zero-shot":
            vals = [r["B"]["baseline"] for r in per_seed.values()]
        else:
            vals = [r[name]["top1"] for r in per_seed.values()]
        rows[name] = {"mean": statistics.fmean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
                      "values": vals}
    return {"seeds": sorted(per_seed), "strategies": rows, "per_seed": per_seed}
