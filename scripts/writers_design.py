"""The many-writers renderer's design check, on the digits pool split only (docs/glyph.md, "Many writers").

    PYTHONPATH=src python scripts/writers_design.py [--per-class 100]

The renderer used as a perfect generator of the domain prompt: the shipped mini CLIP's zero-shot head is tuned on
rendered images (``synthrec.glyph.training.measure.renderer_gain``) and measured on the pool digits, for the
one-pen renderer the shipped CLIP and the first generator training used (``domain``), the many-writers renderer
(``domain-writers``) and the many-writers renderer with one of its ranges changed, to see what each range costs on
load_digits' writers.
Also printed: how often the CLIP is right on the renders (the zero-shot/generator asymmetry: low means the CLIP
has not seen this domain). About 3 minutes on one thread.
"""
from __future__ import annotations

import argparse

import torch

VARIANTS = (("one pen (domain)", None), ("many writers (domain-writers)", {}),
            ("  no framing: every scan keeps the writer's size", {"framed": 0.0}),
            ("  every scan framed to the full height", {"framed": 1.0}),
            ("  pens 2.5-7 px only", {"pen_width": (2.5, 7.0)}),
            ("  one scanner: threshold 128, no bleed", {"threshold": (128.0, 128.0), "bleed": (0.0, 0.0)}))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=100)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    from synthrec.features.encoders.glyph import load_glyph_clip
    from synthrec.glyph.training.measure import renderer_gain
    from synthrec.glyph.world import render

    enc = load_glyph_clip()
    shipped = dict(render.WRITER_RANGES)
    print(f"| renderer ({a.per_class}/class) | CLIP right on renders | pool: zero-shot -> tuned | gain |")
    print("|---|---|---|---|")
    try:
        for name, override in VARIANTS:
            render.WRITER_RANGES.update({**shipped, **(override or {})})
            r = renderer_gain(enc, per_class=a.per_class, style="domain" if override is None else "domain-writers")
            print(f"| {name} | {100 * r['zero_shot_on_renders']:.1f} % | {100 * r['zero_shot']:.1f} -> "
                  f"{100 * r['tuned_on_renders']:.1f} % | {100 * r['gain']:+.1f} |", flush=True)
    finally:
        render.WRITER_RANGES.update(shipped)


if __name__ == "__main__":
    main()
