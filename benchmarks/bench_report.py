"""Per-run report writing (issue 15, target 1: under 1 s whatever the run's size).

A run folder of realistic size is built once: generated images written by the project's shard writer (tars +
Parquet manifests), the CLIP filter's real ``scores.parquet`` (``run_filter`` with a tiny random open_clip), the
label space, evaluation metrics and a training log. Each arm is one process (``_arms.py``) that imports the report
module, then times ``write_report(run_dir)``: this checkout against the code of ``_arms.BEFORE_REF``, alternated,
median of the rounds. The line also prints the absolute seconds, so "under 1 s" can be read off it.

Imports (matplotlib, pyarrow) are done before the clock starts in both arms: the start-up lines measure imports,
and a pipeline run that writes several reports pays them once.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _arms
from _common import arms_with_before, build_generated, skipped_before_line, smooth_bases

DRIVER = r'''
import json, sys, time
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: F401
import pyarrow.parquet  # noqa: F401
from synthrec.report import write_report

run_dir = Path(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
html = write_report(run_dir)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}))
'''


def build_run(run_dir: Path, images: int, classes: int) -> None:
    """A finished run's files, as the stages write them (labels, generated images, filter scores, metrics, log)."""
    import numpy as np
    import yaml

    from synthrec import _io
    from synthrec.config.schema import FilterConfig
    from synthrec.filter import run_filter
    from synthrec.generate import read_manifest
    from synthrec.generate.items import generated_items
    from synthrec.labels import LabelSpace
    from synthrec.stages import stage_dir, stage_file
    from synthrec.testing.tiny_clip import build_tiny_open_clip

    names = [f"class {c:02d}" for c in range(classes)]
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump({"name": "bench-report", "report": {"samples_per_class": 8}}))
    labels = stage_file(run_dir, "labels", "labels")
    labels.parent.mkdir(parents=True)
    _io.write_json(labels, LabelSpace(names=tuple(names)).to_json())
    gen = stage_dir(run_dir, "generate")
    build_generated(gen, smooth_bases(64), images, per_shard=1000, classes=classes)
    clip = build_tiny_open_clip(run_dir.parent / "tiny-clip")
    run_filter(generated_items(gen, read_manifest(gen)), names, FilterConfig(encoder=clip),
               stage_dir(run_dir, "filter"), seed=0, cache_dir=run_dir.parent / "feature-cache", progress=False)
    rng = np.random.default_rng(0)

    def head(top1):
        return {"top1": top1, "n": 100 * classes,
                "per_class": {n: float(v) for n, v in zip(names, rng.uniform(0.2, 0.9, classes))}}

    metrics = stage_file(run_dir, "evaluate", "metrics")
    metrics.parent.mkdir(parents=True)
    _io.write_json(metrics, {"heads": {"baseline": head(0.5), "tuned": head(0.6)}, "test_set": "bench"})
    train = stage_file(run_dir, "train", "log")
    train.parent.mkdir(parents=True)
    _io.write_json(train, {"num_images": images, "curve": [{"loss": 2.0 / (e + 1)} for e in range(30)]})


def run(quick: bool):
    images, classes, rounds = (2_000, 20, 3) if quick else (10_000, 50, 5)
    arms = arms_with_before()
    with tempfile.TemporaryDirectory(prefix="synthrec-bench-report-") as tmp:
        run_dir = Path(tmp) / "run"
        build_run(run_dir, images, classes)
        seconds = {arm: [] for arm in arms}
        cpu = {arm: [] for arm in arms}
        for _ in range(rounds):  # alternated: a shared machine slows both arms alike
            for arm, src in arms.items():
                out = _arms.run_python(src, DRIVER, str(run_dir))
                seconds[arm].append(out["seconds"])
                cpu[arm].append(out["cpu_seconds"])
    after = _arms.median(seconds["after"])
    cpu_after = _arms.median(cpu["after"])
    shards = -(-images // 1000)
    what = (f"write_report of one run, {images:,} generated 64 px PNGs in {shards} shards, {classes} classes, "
            f"8 kept + 8 rejected samples a class; fresh process, imports excluded; CPU, {os.cpu_count()} cores; "
            f"median of {rounds} alternated; target < 1 s")
    if "before" in seconds:
        old = _arms.median(seconds["before"])
        yield (f"report_per_run: {old / after:.2f}x {after:.2f} s vs {old:.2f} s wall, {cpu_after:.2f} s vs "
               f"{_arms.median(cpu['before']):.2f} s CPU (this checkout vs code of {_arms.BEFORE_REF}; {what})")
    else:
        yield (f"report_per_run: {1.0 / after:.2f}x {after:.2f} s vs 1.00 s target, {cpu_after:.2f} s CPU "
               f"({what})")
        yield skipped_before_line("report_per_run")
