"""``synthrec demo --ablations``: two of the paper's ablations in the glyph world, from the demo's own runs.

* What is tuned (the paper's Table 3, where tuning more than the classifier hurts on EuroSAT, and Table 6, where
  frozen BN helps): the base strategy's images and filter, trained with each ``train.tune`` / ``train.freeze_bn``.
  The settings, the base strategy and the sizes are the ``ablations`` section of the bundled ``configs/demo.yaml``.
* How much synthetic data per class (Table A.13, where gains saturate): the same filtered images capped per class
  (``filter.per_class_cap``: a seeded random subset of the kept images), and the uncapped run.

Every variant is an ordinary run folder forked from the base run (its labels, prompts and images are reused), so
its numbers come from the same stages as the demo's.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from .. import _io, api
from ..config import load_config
from ..stages import stage_file
from .spec import DemoSize, demo_spec, run_dir_of, strategy_config

log = logging.getLogger("synthrec")


def tune_name(v: dict) -> str:
    if v["tune"] == "head":
        return "head"
    return f"{v['tune']}, BN {'frozen' if v.get('freeze_bn', True) else 'not frozen'}"


def _variant(out: Path, seed: int, size: DemoSize, base: str, name: str, update: dict,
             fork_stages: tuple[str, ...]) -> dict:
    run_dir = out / f"seed{seed}" / "ablations" / name
    if not (run_dir / "config.yaml").exists():
        api.fork_run(run_dir_of(out, seed, base), run_dir, fork_stages)
    cfg = strategy_config(base, run_dir, seed, size, out / "features")
    for section, values in update.items():
        cfg[section].update(values)
    cfg["report"]["title"] = f"glyph world, {base}, {name}, seed {seed}"
    t0 = time.perf_counter()
    api.run(load_config(data=cfg))
    metrics = _io.read_json(stage_file(run_dir, "evaluate", "metrics"))
    train = _io.read_json(stage_file(run_dir, "train", "log"))
    return {"top1": metrics["heads"]["tuned"]["top1"], "baseline": metrics["heads"]["baseline"]["top1"],
            "images": train["n_images"], "images_per_class": train["n_images_per_class"],
            "tuned_share": train.get("meta", {}).get("tuned_share"), "run_dir": str(run_dir),
            "seconds": time.perf_counter() - t0}


def run_ablations(out: Path, seed: int, size: DemoSize) -> dict:
    """Both ablations on ``seed``; the base strategy's run of that seed must be finished (``run_seed``)."""
    out = Path(out)
    spec = demo_spec()["ablations"]
    base = spec["base"]
    tune = []
    for v in spec["tune"]:
        name = tune_name(v)
        train = {"tune": v["tune"], "freeze_bn": v.get("freeze_bn", True)}
        res = _variant(out, seed, size, base, "tune-" + name.replace(", ", "-").replace(" ", "_"),
                       {"train": train}, ("labels", "prompts", "generate", "filter"))
        tune.append({"setting": name, **train, **res})
        log.info("ablation seed %d: tune %s, top-1 %.2f%%", seed, name, 100 * res["top1"])
    data = []
    for cap in (*spec["images_per_class"], None):
        res = _variant(out, seed, size, base, f"cap-{cap or 'none'}", {"filter": {"per_class_cap": cap}},
                       ("labels", "prompts", "generate"))
        data.append({"cap": cap, **res})
        log.info("ablation seed %d: at most %s images per class, top-1 %.2f%%", seed, cap or "all",
                 100 * res["top1"])
    return {"seed": seed, "base": base, "tune": tune, "data": data}
