"""Where do the soft targets' teacher (the zero-shot mini CLIP) and the generator's intended labels disagree on a
demo run's generated images, and who is right?

    PYTHONPATH=src python scripts/sce_disagreement.py runs/demo [--json out.json]

For each seed and each image set of the demo (B, LE, LE+CF: the SCE strategies train on the same images), the
teacher's label is the arg-max of the zero-shot head (what SCE's soft targets peak on; the temperature does not move
the arg-max) and the intended label is the prompt's class. Two judges that never saw the CLIP decide who is right:

* ``real``: an RBF-SVM on the pixels (16x16, the CLIP's own resize) of the 896 real pool digits;
* ``renderer``: the same SVM trained on 300 renders per class of the many-writers domain
  (``render.STYLE_MIXES["domain-writers"]``), the renderer used as a perfect generator.

Each judge's own accuracy is printed first (5-fold CV on the pool; the renderer judge on the pool digits), so its
votes can be weighed. The test split is not used.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure_cli  # a sibling module of these scripts (scripts/ is not a package)

IMAGE_SETS = ("B", "LE", "LE_CF")


def _pixels(images) -> np.ndarray:
    from synthrec.glyph.world.render import to_size

    return np.stack([np.asarray(to_size(im, 16), dtype=np.float32).ravel() / 255.0 for im in images])


def build_judges(seed: int = 0) -> tuple[dict, dict]:
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    from synthrec.datasets.digits import load_digits_split
    from synthrec.glyph.world.render import render_glyphs

    pool_images, pool_labels = load_digits_split("pool")
    x_pool, y_pool = _pixels(pool_images), np.array(pool_labels)
    real = SVC(C=10, gamma="scale").fit(x_pool, y_pool)
    chars = [c for c in "0123456789" for _ in range(300)]
    renders = render_glyphs(chars, seed=seed + 77, styles="domain-writers")
    renderer = SVC(C=10, gamma="scale").fit(_pixels([r[0] for r in renders]), np.array([int(c) for c in chars]))
    quality = {"real_cv5_on_pool": float(cross_val_score(SVC(C=10, gamma="scale"), x_pool, y_pool, cv=5).mean()),
               "renderer_on_pool": float((renderer.predict(x_pool) == y_pool).mean())}
    return {"real": real, "renderer": renderer}, quality


@torch.no_grad()
def measure_set(run_dir: Path, encoder, head: torch.Tensor, judges: dict) -> dict:
    from synthrec import _io
    from synthrec.generate.items import generated_items

    selection = {r["image_id"]: r for r in _io.read_parquet(run_dir / "filter" / "selection.parquet").to_pylist()}
    kept = [it for it in generated_items(run_dir / "generate") if it.image_id in selection]  # what training used
    images = [it.load() for it in kept]
    intended = np.array([it.class_id for it in kept])
    teacher = (encoder.encode_images(images) @ head.T).argmax(1).numpy()
    x = _pixels(images)
    votes = {name: j.predict(x) for name, j in judges.items()}
    disagree = teacher != intended
    out = {"images": len(kept), "teacher_agrees_with_intended": float((~disagree).mean()),
           "disagreements": int(disagree.sum())}
    for name, v in votes.items():
        d = v[disagree]
        out[name] = {"intended_right_overall": float((v == intended).mean()),
                     "teacher_right_overall": float((v == teacher).mean()),
                     "on_disagreements": {"intended": float((d == intended[disagree]).mean()) if len(d) else 0.0,
                                          "teacher": float((d == teacher[disagree]).mean()) if len(d) else 0.0,
                                          "neither": float(((d != intended[disagree]) & (d != teacher[disagree])
                                                            ).mean()) if len(d) else 0.0}}
    return out


def main(argv: list[str] | None = None) -> int:
    a = _measure_cli.parse(__doc__, argv)
    torch.set_num_threads(1)
    from synthrec.features.encoders.glyph import load_glyph_clip
    from synthrec.glyph.training.measure import zero_shot_head

    seeds = sorted(a.demo_dir.glob("seed*"))
    if not seeds:
        return _measure_cli.missing("seed* folders", a.demo_dir, f"synthrec demo --out {a.demo_dir}")
    encoder = load_glyph_clip()
    head = zero_shot_head(encoder)
    judges, quality = build_judges()
    print(f"judges: real-pool SVM 5-fold CV {100 * quality['real_cv5_on_pool']:.1f} %, "
          f"renderer SVM on pool digits {100 * quality['renderer_on_pool']:.1f} %")
    result = {"judges": quality, "sets": {}}
    print("| seed | set | images | real judge = intended | real judge = teacher | teacher = intended | "
          "disagreements | on them, real judge: intended / teacher / neither (%) | renderer judge (%) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed_dir in seeds:
        for name in IMAGE_SETS:
            run_dir = seed_dir / name
            if not (run_dir / "filter" / "selection.parquet").is_file():
                continue
            m = measure_set(run_dir, encoder, head, judges)
            result["sets"][f"{seed_dir.name}/{name}"] = m
            cells = [" / ".join(f"{100 * m[j]['on_disagreements'][k]:.0f}" for k in ("intended", "teacher", "neither"))
                     for j in ("real", "renderer")]
            real = m["real"]
            print(f"| {seed_dir.name} | {name.replace('_', '+')} | {m['images']} | "
                  f"{100 * real['intended_right_overall']:.1f} % | {100 * real['teacher_right_overall']:.1f} % | "
                  f"{100 * m['teacher_agrees_with_intended']:.1f} % | {m['disagreements']} | {cells[0]} | {cells[1]} |")
    return _measure_cli.finish(a, result)


if __name__ == "__main__":
    raise SystemExit(main())
