"""How much do the few-shot adapters change the generator's images? For a run of configs/digits_fewshot_adapt.yaml:

    PYTHONPATH=src python scripts/adapter_effect.py runs/digits_fewshot_adapt [--json out.json]

For every ``lora`` and ``textual_inversion`` run, each of its images is compared with the base generator's image for
the same class and seed (the zero-shot stages' generate folder, which B reuses): the mean absolute pixel difference
on 0..255. The scale to read it against is printed first: the base generator's own images of one class, compared
across seeds (each image with the next seed's). An adapter that changed nothing would give 0.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _by_class_seed(folder: Path) -> dict[tuple[int, int], np.ndarray]:
    from synthrec.generate import read_manifest, usable_rows
    from synthrec.generate.items import generated_items

    rows, _ = usable_rows(read_manifest(folder))
    seeds = {r["image_id"]: int(r["seed"]) for r in rows.select(["image_id", "seed"]).to_pylist()}
    return {(it.class_id, seeds[it.image_id]): np.asarray(it.load().convert("L"), dtype=np.float32)
            for it in generated_items(folder, rows)}


def _mean_abs(a: dict, b: dict) -> tuple[float, int]:
    common = [key for key in a if key in b]
    if not common:
        return float("nan"), 0
    return float(np.mean([np.abs(a[key] - b[key]).mean() for key in common])), len(common)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    a = ap.parse_args(argv)
    from synthrec import _io

    results = sorted(a.run_dir.glob("fewshot/runs/k*-seed*-lora/result.json")) + sorted(
        a.run_dir.glob("fewshot/runs/k*-seed*-textual_inversion/result.json"))
    if not results:
        print(f"error: no lora or textual_inversion results under {a.run_dir}/fewshot/runs; run "
              "`synthrec run configs/digits_fewshot_adapt.yaml` first", file=sys.stderr)
        return 2
    base = _by_class_seed(a.run_dir / "generate")
    by_class: dict[int, list[tuple[int, np.ndarray]]] = {}
    for (c, s), im in sorted(base.items()):
        by_class.setdefault(c, []).append((s, im))
    across = [np.abs(ims[i][1] - ims[i + 1][1]).mean() for ims in by_class.values() for i in range(len(ims) - 1)]
    out = {"base_across_seeds": float(np.mean(across)), "runs": {}}
    print(f"base generator, same class, next seed: mean |difference| {out['base_across_seeds']:.1f} of 255 "
          f"({len(across)} pairs)")
    print("| run | images | mean abs difference from the base image (same class and seed), of 255 |")
    print("|---|---|---|")
    for path in results:
        r = json.loads(path.read_text())
        diff, n = _mean_abs(_by_class_seed(a.run_dir / r["synthetic"]["folder"]), base)
        name = path.parent.name
        out["runs"][name] = {"images": n, "mean_abs_diff": diff}
        print(f"| {name} | {n} | {diff:.1f} |")
    if a.json:
        _io.write_json(a.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
