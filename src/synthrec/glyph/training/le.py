"""Training the Language Enhancement model: (class word, caption) pairs drawn from the generator's own caption
distribution, so the sentences it learns to write are prompts the generator knows."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..models.le import new_le_model
from ..world.constants import le_input
from ..world.render import DIGITS, LETTERS, render_glyphs
from .diffusion import GEN_MIX, LETTER_SHARE


def le_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """(class word, caption) pairs from the generator's caption distribution; every caption contains its word."""
    rng = np.random.default_rng([seed, 303])
    chars = [LETTERS[int(rng.integers(len(LETTERS)))] if rng.random() < LETTER_SHARE else DIGITS[int(rng.integers(10))]
             for _ in range(n)]
    out = render_glyphs(chars, seed=seed + 2_000_003, styles=GEN_MIX, size=8)
    return [(le_input(c), cap) for c, (_, cap, _) in zip(chars, out)]


def train_le(out_dir: str | Path | None, seed: int = 0, steps: int = 2500, batch: int = 64, lr: float = 2e-3,
             n_pairs: int = 40_000, d_model: int = 128, log: Callable[[str], None] = print):
    t0 = time.time()
    torch.manual_seed(seed)
    tok, model = new_le_model(d_model)
    pairs = le_pairs(n_pairs, seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(seed)
    warmup = max(1, steps // 20)
    history = []
    model.train()
    for step in range(steps):
        cur = lr * (step + 1) / warmup if step < warmup else lr * 0.5 * (
            1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
        for group in opt.param_groups:
            group["lr"] = cur
        idx = torch.randint(len(pairs), (batch,), generator=g).tolist()
        enc = tok([pairs[i][0] for i in idx], return_tensors="pt", padding=True)
        labels = tok([pairs[i][1] for i in idx], return_tensors="pt", padding=True).input_ids
        labels[labels == tok.pad_token_id] = -100
        loss = model(**enc, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 250 == 0 or step + 1 == steps:
            history.append({"step": step + 1, "loss": round(float(loss.detach()), 4),
                            "seconds": round(time.time() - t0, 1)})
            log(f"le: step={step + 1} loss={float(loss.detach()):.4f} seconds={time.time() - t0:.0f}")
    model.eval()
    info = {"params": sum(p.numel() for p in model.parameters()), "steps": steps, "batch": batch, "lr": lr,
            "pairs": n_pairs, "seed": seed, "train_seconds": round(time.time() - t0, 1), "history": history}
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(out_dir))
        tok.save_pretrained(str(out_dir))
    return (tok, model), info
