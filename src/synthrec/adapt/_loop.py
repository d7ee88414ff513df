"""The denoising-loss loop both adapters train with: seeded minibatches of (shot, prompt) pairs, AdamW on the
adapter's parameters only, a tqdm bar."""
from __future__ import annotations

import time
from typing import Callable, Sequence

import torch

from ._backbone import Backbone


def train_steps(backbone: Backbone, latents: torch.Tensor, prompts: Sequence[str], params: list[torch.Tensor], *,
                steps: int, lr: float, batch_size: int, seed: int, condition: Callable[[list[str]], object],
                desc: str, progress: bool, weight_decay: float = 0.0, after_step: Callable[[], None] | None = None
                ) -> dict:
    """Train ``params`` for ``steps`` steps; ``condition(prompts)`` gives the denoiser's conditioning (with grad for
    textual inversion). Returns the loss history (mean per tenth of the run) and the seconds taken."""
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    n = latents.shape[0]
    history, acc, count = [], 0.0, 0
    every = max(1, steps // 10)
    t0 = time.perf_counter()
    backbone.unet.train()
    try:
        for step in tqdm(range(steps), desc=desc, unit="step", disable=not progress or None, leave=False):
            idx = torch.randint(0, n, (batch_size,), generator=g)  # with replacement: k shots may be < a batch
            # Each distinct prompt is encoded once per step (a class's shots share one prompt): textual inversion's
            # backward pass through the text encoder then costs one sentence, not a batch of copies.
            batch_prompts = [prompts[i] for i in idx.tolist()]
            distinct = sorted(set(batch_prompts))
            where = torch.tensor([distinct.index(p) for p in batch_prompts])
            cond = condition(distinct)[where.to(latents.device)]
            loss = backbone.loss(latents[idx.to(latents.device)], cond, g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if after_step is not None:
                after_step()
            acc += float(loss.detach())
            count += 1
            if (step + 1) % every == 0 or step + 1 == steps:
                history.append({"step": step + 1, "loss": round(acc / count, 5)})
                acc, count = 0.0, 0
    finally:
        backbone.unet.eval()
    return {"history": history, "seconds": round(time.perf_counter() - t0, 2)}
