"""The learning-rate schedule of the authors' ``cosine_lr`` (METHOD.md §2.5), per optimiser step.

Linear warm-up ``lr·(s+1)/W`` for the first W steps, then ``0.5·(1 + cos(π·e/E))·lr`` with e = s − W, E = S − W.
"""
from __future__ import annotations

import math


def cosine_lr(step: int, total_steps: int, base_lr: float, warmup_steps: int = 0) -> float:
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup_steps) / span)) * base_lr


def decay_only_factor(total_steps: int, base_lr: float, weight_decay: float, warmup_steps: int = 0) -> float:
    """How far AdamW's decoupled decay alone would shrink the weights over the run: Π_s (1 − lr_s·wd).

    The head's weights carry the ~100x logit scale, so this is also the factor the decay alone applies to the
    logits' temperature (METHOD.md §8.3); the gradients push back, and ``train.json`` records what happened.
    """
    log_f = sum(math.log1p(-cosine_lr(s, total_steps, base_lr, warmup_steps) * weight_decay)
                for s in range(total_steps))
    return math.exp(log_f)
