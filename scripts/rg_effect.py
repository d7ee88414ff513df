"""What Real Guidance images add next to B's in a few-shot run of the glyph world.

    PYTHONPATH=src python scripts/rg_effect.py runs/digits_fewshot [--json out.json]

For each (shots, draw) of the run's RG sets and for its B set (the zero-shot stages' LE + CF images), in pixels at
the CLIP's 16x16:

* ``to pool``: mean distance from each image to the nearest real pool digit of its class that is not one of the
  draw's shots: how far the set is from the real domain (the gap RG is meant to close);
* ``to shots``: mean distance to the nearest of its class's shots: how much an image is a copy of a shot;
* ``spread``: mean distance between two images of the same class: the set's diversity.

Distances are root-mean-square over pixels in 0..1. The test split is not used.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure_cli  # a sibling module of these scripts (scripts/ is not a package)


def _pixels(images) -> np.ndarray:
    from synthrec.glyph.world.render import to_size

    return np.stack([np.asarray(to_size(im, 16), dtype=np.float32).ravel() / 255.0 for im in images])


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d.min(1), 0) / a.shape[1])


def _spread(a: np.ndarray, rng: np.random.Generator, pairs: int = 2000) -> float:
    i, j = rng.integers(0, len(a), pairs), rng.integers(0, len(a), pairs)
    keep = i != j
    return float(np.sqrt(((a[i[keep]] - a[j[keep]]) ** 2).mean(1)).mean())


def measure(x: np.ndarray, y: np.ndarray, pool: dict[int, np.ndarray], shots: dict[int, np.ndarray]) -> dict:
    rng = np.random.default_rng(0)
    to_pool, to_shots, spread = [], [], []
    for c in sorted(set(y.tolist())):
        xc = x[y == c]
        to_pool.append(_nearest(xc, pool[c]).mean())
        to_shots.append(_nearest(xc, shots[c]).mean())
        spread.append(_spread(xc, rng))
    return {"images": len(x), "to_pool": float(np.mean(to_pool)), "to_shots": float(np.mean(to_shots)),
            "spread": float(np.mean(spread))}


def main(argv: list[str] | None = None) -> int:
    a = _measure_cli.parse(__doc__, argv, folder="run_dir")
    from PIL import Image

    from synthrec import _io
    from synthrec.datasets.digits import load_digits_split
    from synthrec.generate.items import generated_items

    fewshot = a.run_dir / "fewshot"
    results = sorted(fewshot.glob("runs/k*-seed*-RG/result.json"))
    if not results:
        return _measure_cli.missing("RG results (a run with a fewshot: section)", fewshot / "runs", "synthrec run CONFIG")
    pool_images, pool_labels = load_digits_split("pool")
    pool_x, pool_y = _pixels(pool_images), np.array(pool_labels)
    selection = {r["image_id"] for r in _io.read_parquet(a.run_dir / "filter" / "selection.parquet").to_pylist()}
    b_items = [it for it in generated_items(a.run_dir / "generate") if it.image_id in selection]
    b_x, b_y = _pixels([it.load() for it in b_items]), np.array([it.class_id for it in b_items])

    print("| shots | draw | set | images | to pool | to shots | spread |")
    print("|---|---|---|---|---|---|---|")
    out = {}
    for path in sorted(results, key=lambda p: json.loads(p.read_text())["k"]):
        r = json.loads(path.read_text())
        k, seed = r["k"], r["seed"]
        shot_rows = json.loads((fewshot / "shots" / f"shots-k{k}-seed{seed}.json").read_text())["shots"]
        shot_ids = {s["index"] for s in shot_rows}
        shots = {c: _pixels([Image.open(s["file"]) for s in shot_rows if s["class_id"] == c])
                 for c in {s["class_id"] for s in shot_rows}}
        # Pool digits other than this draw's shots: the real domain, without the images RG starts from.
        rest = np.array([i not in shot_ids for i in range(len(pool_y))])
        pool = {c: pool_x[rest & (pool_y == c)] for c in shots}
        rg_items = list(generated_items(a.run_dir / r["synthetic"]["folder"]))  # relative to the run folder
        rg_x, rg_y = _pixels([it.load() for it in rg_items]), np.array([it.class_id for it in rg_items])
        for name, (x, y) in (("B (LE + CF)", (b_x, b_y)), (f"RG (strength {r['synthetic']['strength']:.2f})",
                                                           (rg_x, rg_y))):
            m = measure(x, y, pool, shots)
            out[f"k{k}-seed{seed}/{name.split()[0]}"] = m
            print(f"| {k} | {seed} | {name} | {m['images']} | {m['to_pool']:.3f} | {m['to_shots']:.3f} | "
                  f"{m['spread']:.3f} |")
    return _measure_cli.finish(a, out)


if __name__ == "__main__":
    raise SystemExit(main())
