"""``synthrec demo`` (one seed) end to end, as a user runs it (issue 15, target 5: under 40 s on 2 cores, with the
same numbers as before), and what keeping freed memory buys glyph generation on its own.

demo_one_seed: the console script in a fresh process, wall time from the parent, this checkout against the code of
``DEMO_BEFORE_REF`` (main before the change, with the same shipped glyph weights, so its numbers are the ones to
keep), alternated; the line also says whether every number of the two results.json files is identical.
The code of ``_arms.BEFORE_REF`` is not an arm here: the glyph pipeline was fine-tuned again after it (issue 10), so
its demo makes other images and other numbers.

glyph_generation_allocator: ``generate()`` of the shipped glyph pipeline in one process, this checkout with and
without ``SYNTHREC_REUSE_FREED_MEMORY`` (``synthrec/_malloc.py``), alternated; the lines say whether the image
bytes match.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import _arms

DEMO_BEFORE_REF = "3d318f4"

GENERATE = r'''
import json, sys, time
from pathlib import Path
import pyarrow as pa
from synthrec.config.schema import GenerateConfig
from synthrec.generate import generate, read_manifest
from synthrec.glyph import world

out, n = Path(sys.argv[1]), int(sys.argv[2])
prompts = pa.table({"class_id": list(range(10)), "prompt_id": list(range(10)),
                    "text": [world.basic_prompt(c) for c in world.DIGIT_CLASSNAMES],
                    "strategy": ["basic"] * 10, "seed": [0] * 10})
cfg = GenerateConfig(generator="glyph", images_per_prompt=n // 10, batch_size=250, shard_size=1000, device="cpu")
t0 = time.perf_counter()
generate(prompts, cfg, out, run_seed=0, progress=False)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "sha256": read_manifest(out).sort_by("image_id").column("sha256").to_pylist()}))
'''


def _demo(src: Path, out: Path) -> tuple[float, dict]:
    seconds = _arms.run_cli(src, "demo", "--out", str(out))
    summary = json.loads((out / "results.json").read_text())
    return seconds, {name: row["values"] for name, row in summary["strategies"].items()}


def _demo_lines(rounds: int, tmp: Path):
    before = _arms.before_src(DEMO_BEFORE_REF)
    arms = {"after": _arms.current_src(), **({"before": before} if before is not None else {})}
    seconds, numbers = {arm: [] for arm in arms}, {}
    for r in range(rounds):
        for arm, src in arms.items():
            s, nums = _demo(src, tmp / f"demo-{arm}-{r}")
            seconds[arm].append(s)
            numbers.setdefault(arm, nums)
            if nums != numbers[arm]:
                raise RuntimeError(f"the {arm} arm's demo gave other numbers on round {r}: {nums} vs {numbers[arm]}")
    after = _arms.median(seconds["after"])
    where = f"CPU, {os.cpu_count()} cores, median of {rounds} alternated; target < 40 s"
    if "before" not in seconds:
        yield f"demo_one_seed: {after:.1f} s (`synthrec demo`, fresh process, wall; {where}; no before arm: " \
              f"commit {DEMO_BEFORE_REF} is not in this checkout's history)"
        return
    old = _arms.median(seconds["before"])
    same = numbers["after"] == numbers["before"]
    diff = "" if same else "; differ: " + ", ".join(
        f"{k} {100 * numbers['after'][k][0]:.2f} vs {100 * numbers['before'].get(k, [float('nan')])[0]:.2f}"
        for k in numbers["after"] if numbers["after"][k] != numbers["before"].get(k))
    yield (f"demo_one_seed: {old / after:.2f}x {after:.1f} s vs {old:.1f} s (`synthrec demo`, fresh process, wall; "
           f"this checkout vs code of {DEMO_BEFORE_REF}; {where}; same numbers: {'yes' if same else 'no'}{diff})")


def _allocator_lines(rounds: int, n: int, tmp: Path):
    seconds, shas = {"kept": [], "returned": []}, {}
    for r in range(rounds):
        for arm, flag in (("kept", "1"), ("returned", "0")):
            out = _arms.run_python(_arms.current_src(), GENERATE, str(tmp / f"gen-{arm}-{r}"), str(n),
                                   env={"SYNTHREC_REUSE_FREED_MEMORY": flag})
            seconds[arm].append(out["seconds"])
            shas.setdefault(arm, out["sha256"])
    kept, returned = _arms.median(seconds["kept"]), _arms.median(seconds["returned"])
    yield (f"glyph_generation_allocator: {returned / kept:.2f}x {n / kept:.1f} img/s vs {n / returned:.1f} img/s "
           f"(generate() of {n} images with the shipped glyph pipeline, 15 steps, batch 250; freed memory kept for "
           f"reuse vs handed back to the kernel; same image bytes: {'yes' if shas['kept'] == shas['returned'] else 'no'}"
           f"; CPU, {os.cpu_count()} cores, median of {rounds} alternated)")


def run(quick: bool):
    import shutil

    tmp = Path(tempfile.mkdtemp(prefix="synthrec-bench-demo-"))
    try:
        yield from _allocator_lines(1 if quick else 3, 500 if quick else 1000, tmp)
        yield from _demo_lines(1 if quick else 3, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
