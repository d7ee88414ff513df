"""Training loop of the glyph diffusion model: epsilon prediction on freshly rendered images with clean captions."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from ..models import text as minilm
from ..models.pipeline import GlyphPipeline, new_pipeline, scheduler_config
from ..world.constants import DIGIT_CLASSNAMES, basic_prompt
from ..world.render import DIGITS, LETTERS, STYLE_MIXES, StyleMix, grid, render_glyphs

# The generator sees every style with clean captions, the real task's domain (scans of handwriting) often.
GEN_MIX = StyleMix(pen=0.4, scan=0.35)
# The fine-tune of issue 10: every handwritten image from its own writer (render.sample_writer), handwriting and
# scans more often than in the first training (what changed gets most of a short budget; fonts stay so that the
# other styles are not forgotten).
WRITERS_MIX = STYLE_MIXES["writers"]
LETTER_SHARE = 0.15
CFG_DROP = 0.1


def _batch(step: int, batch: int, seed: int, mix: StyleMix, stream: int = 1_000_003
           ) -> tuple[torch.Tensor, list[str]]:
    rng = np.random.default_rng([seed, step, 202])  # the character draws; the renders differ by stream
    letters = rng.random(batch) < LETTER_SHARE
    chars = [LETTERS[int(rng.integers(len(LETTERS)))] if l else DIGITS[int(rng.integers(10))] for l in letters]
    out = render_glyphs(chars, seed=seed + stream, styles=mix, start=step * batch)
    arr = np.stack([np.asarray(o[0], dtype=np.float32) for o in out]) / 127.5 - 1.0
    return torch.from_numpy(arr).unsqueeze(1), [o[1] for o in out]


def sample_grid(pipe: GlyphPipeline, path: Path | None, prompts: list[str] | None = None, per_prompt: int = 8,
                seed: int = 0):
    prompts = prompts or [basic_prompt(c) for c in DIGIT_CLASSNAMES]
    gens = [torch.Generator().manual_seed(seed * 100_000 + i) for i in range(len(prompts) * per_prompt)]
    images = pipe(prompts, num_images_per_prompt=per_prompt, generator=gens).images
    # one row per prompt
    sheet = grid(images, cols=per_prompt)
    if path is not None:
        from ..._io import atomic_path

        with atomic_path(path) as tmp:
            sheet.save(tmp, format="PNG")
    return images


def train_diffusion(out_dir: str | Path | None, seed: int = 0, steps: int = 4000, batch: int = 128,
                    lr: float = 1e-3, base: int = 32, ema_decay: float = 0.999, mix: StyleMix = GEN_MIX,
                    log: Callable[[str], None] = print, log_dir: str | Path | None = None, grid_every: int = 500,
                    max_seconds: float | None = None, init_from: str | Path | None = None,
                    stream: int = 1_000_003, grid_prefix: str = "diffusion") -> tuple[GlyphPipeline, dict]:
    """``max_seconds`` stops early and keeps the EMA weights reached so far (``steps_done`` in the info says so).

    ``init_from``: a saved pipeline folder to fine-tune instead of a fresh UNet (``base`` is then ignored);
    ``stream`` picks the rendered data stream, so a fine-tune does not replay the images of the first training.
    """
    t0 = time.time()
    if init_from is not None:
        from ..models.pipeline import load_glyph_pipeline

        torch.manual_seed(seed)
        pipe = load_glyph_pipeline(init_from)
        pipe.unet.register_to_config(_name_or_path="unet")  # not the machine's path, into the saved config
        base = pipe.unet.config.block_out_channels[0]
    else:
        pipe = new_pipeline(base, seed)
    unet = pipe.unet
    ema = copy.deepcopy(unet).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    noise_sched = DDPMScheduler(**{k: v for k, v in scheduler_config().items() if k != "set_alpha_to_one"})
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 40)
    g = torch.Generator().manual_seed(seed)
    history, loss_acc, done = [], 0.0, 0
    log_dir = Path(log_dir) if log_dir else None
    for step in range(steps):
        t_frac = (step - warmup) / max(1, steps - warmup)
        cur = lr * (step + 1) / warmup if step < warmup else lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t_frac)))
        for group in opt.param_groups:
            group["lr"] = cur
        x0, caps = _batch(step, batch, seed, mix, stream)
        cond = minilm.encode(caps, batch_size=minilm.TRAIN_BATCH)
        drop = torch.rand(batch, generator=g) < CFG_DROP
        cond = torch.where(drop[:, None], torch.zeros_like(cond), cond)
        noise = torch.randn(x0.shape, generator=g)
        t = torch.randint(0, noise_sched.config.num_train_timesteps, (batch,), generator=g)
        xt = noise_sched.add_noise(x0, noise, t)
        unet.train()
        pred = unet(xt, t, encoder_hidden_states=cond[:, None], class_labels=cond).sample
        loss = torch.nn.functional.mse_loss(pred, noise)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        # Short EMA warm-up so early checkpoints are not dominated by the random init.
        d = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pu in zip(ema.parameters(), unet.parameters()):
                pe.lerp_(pu, 1 - d)
        loss_acc += float(loss.detach())
        done = step + 1
        if done % 100 == 0 or done == steps:
            row = {"step": done, "loss": round(loss_acc / (100 if done % 100 == 0 else done % 100), 5),
                   "lr": round(cur, 6), "seconds": round(time.time() - t0, 1)}
            history.append(row)
            log(f"{grid_prefix}: " + " ".join(f"{k}={v}" for k, v in row.items()))
            loss_acc = 0.0
        if log_dir is not None and (done % grid_every == 0 or done == steps):
            snap = GlyphPipeline(ema, DDIMScheduler(**scheduler_config()))
            snap.set_progress_bar_config(disable=True)
            sample_grid(snap, log_dir / f"{grid_prefix}_step{done:05d}.png")
            if out_dir is not None:  # a usable checkpoint in case the run is stopped
                snap.save_pretrained(str(out_dir))
        if max_seconds is not None and time.time() - t0 > max_seconds:
            log(f"{grid_prefix}: time budget reached after {done} steps")
            break
    final = GlyphPipeline(ema, DDIMScheduler(**scheduler_config()))
    final.set_progress_bar_config(disable=True)
    info = {"params": sum(p.numel() for p in unet.parameters()), "steps_planned": steps, "steps_done": done,
            "batch": batch, "lr": lr, "ema_decay": ema_decay, "seed": seed, "base": base,
            "train_seconds": round(time.time() - t0, 1), "history": history, "letter_share": LETTER_SHARE,
            "cfg_drop": CFG_DROP, "init_from": None if init_from is None else Path(init_from).name,
            "mix": asdict(mix), "stream": stream}
    if out_dir is not None:
        final.save_pretrained(str(out_dir))
    return final, info
