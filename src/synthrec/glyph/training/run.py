"""Reproduce the glyph world's shipped weights from a seed, on CPU.

    synthrec glyph train --seed 0                                        # everything into the package, ~1.5-2 h
    synthrec glyph train --out DIR --only clip|diffusion|writers|le|cards [--quick]

Each part runs single-threaded so that the three trainings can run side by side as separate processes on a 2-core
machine. Logs, per-part JSON records and sample grids go to ``OUT/logs/``; ``cards`` measures the trained models and
writes each one's model card (README.md). ``--quick`` trains tiny versions in seconds (tests).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..models.weights import CLIP_NAME, LE_NAME, PIPELINE_NAME, WEIGHTS_ROOT

# "writers" fine-tunes OUT/pipeline (from "diffusion") on the many-writers handwriting (issue 10, docs/glyph.md).
PARTS = ("clip", "diffusion", "writers", "le", "cards")

FULL = {
    "clip": dict(steps=2000, n_images=100_000, eval_every=250),
    "diffusion": dict(steps=2800, batch=128, grid_every=400, max_seconds=5700),
    "writers": dict(steps=700, batch=96, lr=3e-4, ema_decay=0.995, grid_every=350, max_seconds=3000),
    "le": dict(steps=1500),
}
QUICK = {
    "clip": dict(steps=12, n_images=600, width=8, batch=64, eval_every=6),
    "diffusion": dict(steps=6, batch=16, base=8, grid_every=6),
    "writers": dict(steps=4, batch=16, grid_every=4),
    "le": dict(steps=12, n_pairs=300, d_model=32, batch=16),
}


class _Log:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "a", encoding="utf-8")

    def __call__(self, msg: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        print(line, flush=True)
        self.fh.write(line + "\n")
        self.fh.flush()


def _record(logs: Path, part: str, info: dict) -> None:
    from ..._io import write_json
    from ..world.render import font_catalog

    fonts = font_catalog()
    write_json(logs / f"{part}.json", {**info, "fonts": len(fonts), "font_families": sorted({f.family for f in fonts}),
                                       "torch_threads": _threads()})


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def train_part(part: str, out_dir: str | Path, seed: int = 0, quick: bool = False) -> dict:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(out_dir)
    logs = out / "logs"
    log = _Log(logs / f"{part}.log")
    settings = (QUICK if quick else FULL).get(part, {})
    log(f"{part}: start seed={seed} quick={quick} settings={json.dumps(settings)}")
    if part == "clip":
        from .clip import train_clip

        _, info = train_clip(out / CLIP_NAME, seed=seed, log=log, **settings)
    elif part == "diffusion":
        from .diffusion import train_diffusion

        _, info = train_diffusion(out / PIPELINE_NAME, seed=seed, log=log, log_dir=logs, **settings)
    elif part == "writers":
        from .diffusion import WRITERS_MIX, train_diffusion

        _, info = train_diffusion(out / PIPELINE_NAME, seed=seed, log=log, log_dir=logs, mix=WRITERS_MIX,
                                  init_from=out / PIPELINE_NAME, stream=2_000_003, grid_prefix="writers", **settings)
    elif part == "le":
        from .le import train_le

        _, info = train_le(out / LE_NAME, seed=seed, log=log, **settings)
    elif part == "cards":
        from .cards import write_cards

        info = write_cards(out, quick=quick, log=log)
    else:
        raise ValueError(f"unknown part {part!r}; use one of {PARTS}")
    info = {**info, "quick": quick, "settings": settings}
    _record(logs, part, info)
    log(f"{part}: done")
    return info


def train_all(out_dir: str | Path = WEIGHTS_ROOT, seed: int = 0, quick: bool = False) -> dict:
    """Train every part one after the other, then write the model cards."""
    return {part: train_part(part, out_dir, seed, quick) for part in PARTS}
