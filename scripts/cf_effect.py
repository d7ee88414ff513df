"""What does the CLIP filter take out of a demo run's LE images, and were those images worth keeping?

    PYTHONPATH=src python scripts/cf_effect.py runs/demo [--json out.json]

For each seed's LE+CF run, the LE images are split by the filter's verdict (``filter/scores.parquet``: kept when
p(intended) > 1/N). Each part is read by the judge of ``scripts/sce_disagreement.py`` that never saw the CLIP (an
RBF-SVM on the pixels of the 896 real pool digits): the share it reads as the intended digit says whether the filter
removed noise (dropped images unreadable or off-class) or useful images the CLIP merely finds hard. The test split is
not used.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure_cli  # a sibling module of these scripts (scripts/ is not a package)
from sce_disagreement import _pixels, build_judges


def measure_run(run_dir: Path, judge) -> dict:
    from synthrec import _io
    from synthrec.generate.items import generated_items

    kept = {r["image_id"]: bool(r["kept"]) for r in _io.read_parquet(run_dir / "filter" / "scores.parquet").to_pylist()}
    items = [it for it in generated_items(run_dir / "generate") if it.image_id in kept]
    verdict = np.array([kept[it.image_id] for it in items])
    intended = np.array([it.class_id for it in items])
    readable = judge.predict(_pixels([it.load() for it in items])) == intended
    part = {name: {"images": int(mask.sum()), "judge_reads_intended": float(readable[mask].mean()) if mask.any() else 0.0}
            for name, mask in (("kept", verdict), ("dropped", ~verdict))}
    return {"images": len(items), **part}


def main(argv: list[str] | None = None) -> int:
    a = _measure_cli.parse(__doc__, argv)
    torch.set_num_threads(1)
    runs = sorted(a.demo_dir.glob("seed*/LE_CF"))
    if not runs:
        return _measure_cli.missing("seed*/LE_CF runs", a.demo_dir, f"synthrec demo --out {a.demo_dir}")
    judges, quality = build_judges()
    print(f"judge: real-pool SVM, 5-fold CV {100 * quality['real_cv5_on_pool']:.1f} % on the pool")
    print("| seed | LE images | kept by CF | judge reads intended: kept | dropped | all |")
    print("|---|---|---|---|---|---|")
    result = {"judge": quality, "runs": {}}
    for run_dir in runs:
        m = measure_run(run_dir, judges["real"])
        result["runs"][run_dir.parent.name] = m
        k, d = m["kept"], m["dropped"]
        overall = (k["images"] * k["judge_reads_intended"] + d["images"] * d["judge_reads_intended"]) / m["images"]
        print(f"| {run_dir.parent.name} | {m['images']} | {k['images']} | {100 * k['judge_reads_intended']:.1f} % | "
              f"{100 * d['judge_reads_intended']:.1f} % | {100 * overall:.1f} % |")
    return _measure_cli.finish(a, result)


if __name__ == "__main__":
    raise SystemExit(main())
