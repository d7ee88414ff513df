"""Top-1 accuracy, overall and per class, from predictions (pure functions, no I/O)."""
from __future__ import annotations

from typing import Sequence

import torch


def top1_report(preds: torch.Tensor, labels: torch.Tensor, classnames: Sequence[str]) -> dict:
    """{"top1", "correct", "n", "per_class": {name: {"top1", "correct", "n"}}}; a class with no test image gets
    top1 null rather than a made-up 0 or 1."""
    preds, labels = preds.reshape(-1).long().cpu(), labels.reshape(-1).long().cpu()
    k = len(classnames)
    hit = preds == labels
    n_per = torch.bincount(labels, minlength=k)
    ok_per = torch.bincount(labels[hit], minlength=k)
    per_class = {}
    for c, name in enumerate(classnames):
        n, ok = int(n_per[c]), int(ok_per[c])
        per_class[name] = {"top1": ok / n if n else None, "correct": ok, "n": n}
    n = len(labels)
    return {"top1": int(hit.sum()) / n if n else None, "correct": int(hit.sum()), "n": n, "per_class": per_class}
