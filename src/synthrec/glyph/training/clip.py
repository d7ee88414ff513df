"""Training loop of the mini CLIP (LiT-style: the MiniLM text tower stays frozen)."""
from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ...features.encoders.glyph import GlyphClipEncoder
from ..models import text as minilm
from ..models.clip import GlyphClip, default_config, pixels_from_uint8, save_glyph_clip
from ..world.captions import AltText, alt_text
from ..world.render import DIGITS, LETTERS, StyleMix, render_glyphs, to_array

# The CLIP's world (DESIGN.md §4, chosen on the pool split): every font style and pen-stroke handwriting, with noisy
# alt-text, but never the real task's domain, low-res scans -- as web CLIP rarely saw satellite photos. The
# generator does see scans, with clean captions, so it knows what the zero-shot head does not (docs/glyph.md).
CLIP_MIX = StyleMix(pen=0.3, scan=0.0)
CLIP_ALT = AltText()
LETTER_SHARE = 0.3


def render_clip_data(n: int, seed: int, mix: StyleMix = CLIP_MIX, alt: AltText = CLIP_ALT
                     ) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng([seed, 101])
    alphabet = np.array(list(DIGITS) + list(LETTERS))
    is_letter = rng.random(n) < LETTER_SHARE
    chars = np.where(is_letter, alphabet[10 + rng.integers(len(LETTERS), size=n)],
                     alphabet[rng.integers(10, size=n)]).tolist()
    out = render_glyphs(chars, seed=seed, styles=mix)
    caps = [alt_text(meta, np.random.default_rng([seed, i, 1]), alt) for i, (_, _, meta) in enumerate(out)]
    return to_array([o[0] for o in out]), caps


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to zero: without the decay the prototype's accuracy drifted by +-4 points."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def train_clip(out_dir: str | Path | None, seed: int = 0, steps: int = 3000, batch: int = 256,
               n_images: int = 150_000, lr: float = 2e-3, mix: StyleMix = CLIP_MIX, alt: AltText = CLIP_ALT,
               width: int = 32, log: Callable[[str], None] = print, eval_every: int = 500) -> tuple[GlyphClip, dict]:
    t0 = time.time()
    torch.manual_seed(seed)
    imgs, caps = render_clip_data(n_images, seed, mix, alt)
    uniq = sorted(set(caps))
    cap_id = {c: i for i, c in enumerate(uniq)}
    ids = torch.tensor([cap_id[c] for c in caps])
    log(f"clip: rendered {n_images} images, {len(uniq)} distinct captions in {time.time() - t0:.0f}s")
    temb = minilm.encode(uniq, batch_size=minilm.TRAIN_BATCH)
    log(f"clip: embedded captions, {time.time() - t0:.0f}s")
    pix_all = torch.from_numpy(imgs)
    cfg = {**default_config(), "width": width}
    model = GlyphClip(**cfg)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    rest = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}], lr=lr)
    g = torch.Generator().manual_seed(seed)
    history = []
    perm, pos = torch.randperm(n_images, generator=g), 0
    for step in range(steps):
        if pos + batch > n_images:
            perm, pos = torch.randperm(n_images, generator=g), 0
        idx = perm[pos:pos + batch]
        pos += batch
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup=max(1, steps // 20))
        model.train()
        x = pixels_from_uint8(pix_all[idx])
        cid = ids[idx]
        img = model.encode_image(x)
        txt = model.encode_text_emb(temb[cid])
        logits = model.scale() * img @ txt.T
        # Identical captions in one batch are positives, not negatives.
        same = (cid[:, None] == cid[None, :]).float()
        target = same / same.sum(1, keepdim=True)
        loss = 0.5 * (torch.nn.functional.cross_entropy(logits, target)
                      + torch.nn.functional.cross_entropy(logits.T, target))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            row = {"step": step + 1, "loss": float(loss.detach()), "scale": float(model.scale().detach()),
                   "seconds": round(time.time() - t0, 1)}
            row.update(quick_eval(model))
            history.append(row)
            log("clip: " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    model.eval()
    info = {"params": n_params, "steps": steps, "batch": batch, "n_images": n_images, "lr": lr, "seed": seed,
            "distinct_captions": len(uniq), "train_seconds": round(time.time() - t0, 1), "history": history,
            "mix": asdict(mix), "alt_text": asdict(alt), "letter_share": LETTER_SHARE}
    if out_dir is not None:
        save_glyph_clip(model, cfg, out_dir)
    return model, info


def quick_eval(model: GlyphClip) -> dict:
    """Zero-shot accuracy on the pool digits (design and monitoring only; the test split is measured once, at the end)."""
    from .measure import accuracy, digits_features, zero_shot_head

    was = model.training
    enc = GlyphClipEncoder(model, fingerprint="training")
    f, y = digits_features(enc, "pool")
    acc = accuracy(f, y, zero_shot_head(enc))
    model.train(was)
    return {"pool_zero_shot": acc}
