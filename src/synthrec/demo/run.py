"""``synthrec demo``: the paper's zero-shot experiment (Table 2) in the offline glyph world, on real digits.

Everything runs through the same stages and the same config schema as a GPU run with Stable Diffusion and CLIP;
only the backends differ (the shipped glyph diffusion pipeline, mini CLIP and LE model). Per seed:

* CLIP zero-shot: the mini CLIP's text head on the real test digits (scikit-learn ``load_digits``, test split);
* B / B+SCE: one basic domain prompt per class, heads tuned with CE or with 0.5 CE + 0.5 soft-target CE;
* LE / LE+SCE: Language Enhancement prompts from the shipped seq2seq model;
* LE+CF / LE+CF+SCE: the same images after the CLIP filter (keep p(intended) > 1/N);
* the ceiling: the same head tuned on the real pool digits (a linear probe on real data).

The strategies, their settings and the sizes come from the bundled ``synthrec/configs/demo.yaml``. The results are
whatever the run gives; the report states them with their spread over seeds.
"""
from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from .. import _io, api
from ..config import load_config
from ..stages import stage_file
from .spec import DemoSize, demo_size, demo_spec, strategies, strategy_config
from .spec import run_dir_of as _run_dir

__all__ = ["DemoSize", "demo_size", "demo_spec", "run_demo", "run_seed", "strategies", "strategy_config", "summarise"]

log = logging.getLogger("synthrec")


def run_seed(out: Path, seed: int, size: DemoSize) -> dict:
    results: dict[str, dict] = {}
    cache_dir = out / "features"
    for name, strategy in demo_spec()["strategies"].items():
        run_dir = _run_dir(out, seed, name)
        fork = strategy.get("fork")
        if fork and not (run_dir / "config.yaml").exists():
            # same prompts and images as a finished run, other filter/loss settings: start from its stages
            api.fork_run(_run_dir(out, seed, fork["from"]), run_dir, tuple(fork["stages"]))
        t0 = time.perf_counter()
        cfg = load_config(data=strategy_config(name, run_dir, seed, size, cache_dir))
        api.run(cfg)
        metrics = _io.read_json(stage_file(run_dir, "evaluate", "metrics"))
        kept = _io.read_parquet(stage_file(run_dir, "filter", "selection")).num_rows
        results[name] = {"top1": metrics["heads"]["tuned"]["top1"], "baseline": metrics["heads"]["baseline"]["top1"],
                         "images": kept, "run_dir": str(run_dir), "seconds": time.perf_counter() - t0}
        log.info("demo seed %d: %s top-1 %.2f%% (zero-shot %.2f%%)", seed, name, 100 * results[name]["top1"],
                 100 * results[name]["baseline"])
    results["ceiling"] = real_probe(seed, size, cache_dir)
    return results


def real_probe(seed: int, size: DemoSize, cache_dir: Path) -> dict:
    """The same head and trainer on the real pool digits: the ceiling a perfect synthetic set could approach."""
    from ..config import TrainConfig
    from ..context import get_encoder
    from ..datasets import load_dataset
    from ..evaluate import evaluate_heads
    from ..features import encode_with_cache, image_sha256, InMemoryImage
    from ..glyph import world
    from ..train import train_head, zero_shot_weights

    encoder = get_encoder("glyph")
    pool = load_dataset("digits", split="pool")
    items = [(image_sha256(im), InMemoryImage(im, f"digits pool {i}")) for i, (im, _) in enumerate(pool)]
    feats = encode_with_cache(encoder, items, cache_dir, progress=False)
    labels = [lb for _, lb in pool]
    names, templates = list(world.DIGIT_CLASSNAMES), list(world.ZERO_SHOT_TEMPLATES)
    cfg = TrainConfig(encoder="glyph", templates=templates, epochs=size.epochs, sce_weight=0.0)
    init = zero_shot_weights(encoder, names, templates, cache_dir)
    result = train_head(feats, labels, init, cfg, seed=seed, progress=False)
    test = load_dataset("digits", split="test")
    metrics = evaluate_heads(encoder, {"real": result.head}, test, names, cache_dir, progress=False)
    return {"top1": metrics["heads"]["real"]["top1"], "images": len(labels)}


def run_demo(out: str | Path = "runs/demo", seeds: int = 1, quick: bool = False, ablations: bool = False) -> Path:
    from ..report.demo import write_demo_report

    out = Path(out)
    size = demo_size(quick)
    t0 = time.perf_counter()
    per_seed = {}
    for seed in range(seeds):
        per_seed[seed] = run_seed(out, seed, size)
    summary = summarise(per_seed)
    if ablations:
        from .ablations import run_ablations

        summary["ablations"] = run_ablations(out, 0, size)
    summary.update(seconds=time.perf_counter() - t0, quick=quick, size=size.__dict__)
    _io.write_json(out / "results.json", summary)
    path = write_demo_report(out, summary)
    log.info("demo finished in %.0f s; report: %s", summary["seconds"], path)
    return path


def summarise(per_seed: dict[int, dict]) -> dict:
    rows = {}
    names = ["zero-shot", *strategies(), "ceiling"]
    for name in names:
        if name == "zero-shot":
            vals = [r["B"]["baseline"] for r in per_seed.values()]
        else:
            vals = [r[name]["top1"] for r in per_seed.values()]
        rows[name] = {"mean": statistics.fmean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
                      "values": vals}
    return {"seeds": sorted(per_seed), "strategies": rows, "per_seed": per_seed}
