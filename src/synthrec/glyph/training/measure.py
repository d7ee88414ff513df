"""Numbers the glyph world is judged by: zero-shot accuracy on the real digits, and the gain from tuning the
classifier head on generated (or rendered) images, measured on the pool split for design choices.

The head tuning mirrors the paper's (and the demo's) classifier tuning: a linear head initialised from the
zero-shot text classifier, trained with cross-entropy on frozen image features.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ...features.encoders.base import ImageTextEncoder
from ..world.constants import DIGIT_CLASSNAMES, ZERO_SHOT_TEMPLATES


@torch.no_grad()
def zero_shot_head(encoder: ImageTextEncoder, classnames: Sequence[str] = DIGIT_CLASSNAMES,
                   templates: Sequence[str] = ZERO_SHOT_TEMPLATES) -> torch.Tensor:
    """(C, D) L2-normalised class embeddings: the mean over templates, as in CLIP's prompt ensembling."""
    rows = []
    for c in classnames:
        e = encoder.encode_texts([t.format(c=c) for t in templates]).mean(0)
        rows.append(torch.nn.functional.normalize(e, dim=0))
    return torch.stack(rows)


def accuracy(feats: torch.Tensor, labels: Sequence[int], head: torch.Tensor, bias: torch.Tensor | None = None
             ) -> float:
    logits = feats @ head.T + (0 if bias is None else bias)
    return float((logits.argmax(1) == torch.as_tensor(list(labels))).float().mean())


def tune_head(feats: torch.Tensor, labels: Sequence[int], head0: torch.Tensor, scale: float, epochs: int = 100,
              lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-batch AdamW on a linear head initialised from the zero-shot head (weights x logit scale)."""
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():  # callers often sit inside no_grad (sampling, feature extraction)
        return _tune(feats, labels, head0, scale, epochs, lr, weight_decay, g)


def _tune(feats, labels, head0, scale, epochs, lr, weight_decay, g):
    w = (head0 * scale).clone().requires_grad_(True)
    b = torch.zeros(head0.shape[0], requires_grad=True)
    y = torch.as_tensor(list(labels))
    opt = torch.optim.AdamW([w, b], lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), 256):
            idx = perm[i:i + 256]
            loss = torch.nn.functional.cross_entropy(feats[idx] @ w.T + b, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return w.detach(), b.detach()


def digits_features(encoder: ImageTextEncoder, split: str) -> tuple[torch.Tensor, list[int]]:
    from ...datasets.digits import load_digits_split

    images, labels = load_digits_split(split)
    return encoder.encode_images(images), labels


def renderer_gain(encoder: ImageTextEncoder, per_class: int = 100, seed: int = 0, style="domain",
                  split: str = "pool", prompt_classnames: Sequence[str] = DIGIT_CLASSNAMES) -> dict:
    """The renderer used as a perfect generator of the domain prompt: zero-shot vs tuned accuracy on ``split``."""
    from ..world.render import render_glyphs

    chars = [c for c in prompt_classnames for _ in range(per_class)]
    rendered = render_glyphs(chars, seed=seed, styles=style)
    labels = [int(c) for c in chars]
    f_syn = encoder.encode_images([r[0] for r in rendered])
    head = zero_shot_head(encoder)
    f_real, y_real = digits_features(encoder, split)
    w, b = tune_head(f_syn, labels, head, encoder.logit_scale, seed=seed)
    zs = accuracy(f_real, y_real, head)
    tuned = accuracy(f_real, y_real, w, b)
    return {"split": split, "zero_shot": zs, "tuned_on_renders": tuned, "gain": tuned - zs,
            "zero_shot_on_renders": accuracy(f_syn, labels, head), "per_class": per_class, "style": str(style)}
