"""Why does letting BatchNorm statistics move help in the glyph world (the paper's Table 6 found freezing them helps)?

    PYTHONPATH=src python scripts/bn_shift.py runs/demo [--json out.json]

Reads the two image-encoder ablations of ``synthrec demo --ablations`` (seed 0: ``tune-image_encoder-BN_frozen`` and
``tune-image_encoder-BN_not_frozen``). For every BatchNorm layer of each encoder (the shipped mini CLIP and the two
tuned ones) it compares the layer's running statistics, which normalise every test image, with the statistics the
real pool digits actually produce at that layer: the mean over channels of |mean_real - running_mean| /
sqrt(running_var). Small means the encoder normalises real scans the way it was trained to see its inputs. The test
split is not used.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure_cli  # a sibling module of these scripts (scripts/ is not a package)


def bn_gap(module: torch.nn.Module, pixels: torch.Tensor) -> list[float]:
    """Per BatchNorm layer: mean over channels of |batch mean - running mean| / running std, on ``pixels``."""
    gaps: list[float] = []

    def hook(bn, inputs, _output):
        x = inputs[0]
        mean = x.mean(dim=(0, 2, 3))
        gaps.append(float(((mean - bn.running_mean).abs() / (bn.running_var + bn.eps).sqrt()).mean()))

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    try:
        with torch.no_grad():
            module.eval()(pixels)
    finally:
        for h in handles:
            h.remove()
    return gaps


def main(argv: list[str] | None = None) -> int:
    a = _measure_cli.parse(__doc__, argv)
    torch.set_num_threads(1)
    from synthrec.datasets.digits import load_digits_split
    from synthrec.features.encoders.glyph import load_glyph_clip
    from synthrec.glyph.models.clip import pixels_from_pil
    from synthrec.train.tune import tuned_encoder

    ablations = a.demo_dir / "seed0" / "ablations"
    folders = {"BN frozen": ablations / "tune-image_encoder-BN_frozen" / "train",
               "BN not frozen": ablations / "tune-image_encoder-BN_not_frozen" / "train"}
    missing = [str(f) for f in folders.values() if not f.is_dir()]
    if missing:
        return _measure_cli.missing("image-encoder ablations (seed0/ablations/tune-image_encoder-*)", a.demo_dir, f"synthrec demo --ablations --out {a.demo_dir}")
    base = load_glyph_clip()
    images, _ = load_digits_split("pool")
    pixels = pixels_from_pil(images)
    encoders = {"shipped (never tuned)": base, **{k: tuned_encoder(base, f) for k, f in folders.items()}}
    result = {name: bn_gap(enc.model.image, pixels) for name, enc in encoders.items()}
    layers = len(next(iter(result.values())))
    print("| encoder | " + " | ".join(f"BN {i + 1}" for i in range(layers)) + " | mean |")
    print("|---|" + "---|" * (layers + 1))
    for name, gaps in result.items():
        print(f"| {name} | " + " | ".join(f"{g:.2f}" for g in gaps) + f" | {sum(gaps) / len(gaps):.2f} |")
    return _measure_cli.finish(a, result)


if __name__ == "__main__":
    raise SystemExit(main())
