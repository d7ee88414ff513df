"""CF for the few-shot B set: the zero-shot stages' CLIP-filter rule (METHOD.md §2.3.4) on already encoded images.

The paper's few-shot B is its best zero-shot recipe, LE + CF. The set's images are encoded once for mix training;
their scores come from the same features and the run's zero-shot head (CLIP's softmax over the label space, since
the head's rows carry the logit scale), and the selection is ``synthrec.filter.rule.select``: keep p(intended) above
``threshold`` (default 1/N), exact duplicates dropped.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ..filter.rule import select


@torch.no_grad()
def clip_filter_mask(zs_head, feats: torch.Tensor, labels: torch.Tensor, image_ids: Sequence[str],
                     sha256: Sequence[str], *, seed: int, threshold: float | None = None) -> torch.Tensor:
    """A bool mask over the set: the images the CLIP filter keeps."""
    probs = torch.cat([zs_head.eval()(chunk).softmax(-1) for chunk in feats.split(8192)]) if len(feats) else \
        torch.zeros(0, zs_head.num_classes)
    p_true = probs.gather(1, labels.view(-1, 1)).squeeze(1) if len(feats) else torch.zeros(0)
    sel = select(labels.tolist(), p_true.tolist(), list(image_ids), list(sha256), num_classes=zs_head.num_classes,
                 seed=seed, threshold=threshold)
    return torch.from_numpy(sel.kept)
