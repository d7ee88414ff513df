"""CLIP zero-shot confidence of each image's intended class: p = softmax(logit_scale · cos(image, class text))."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class Scores:
    p_true: np.ndarray  # float64 (n,): p of the intended class; NaN for images that could not be decoded
    p_max: np.ndarray  # float64 (n,)
    argmax: np.ndarray  # int64 (n,); -1 for undecodable images


def score_features(features: torch.Tensor, class_ids, text_weights: torch.Tensor, chunk: int = 8192) -> Scores:
    """``text_weights`` (k, d) already carry the logit scale (``zero_shot_weights``); the softmax runs over all k
    classes, in row chunks so that n x k probabilities never sit in memory at once."""
    y = torch.as_tensor(np.asarray(class_ids), dtype=torch.long)
    n = len(features)
    p_true, p_max = np.full(n, np.nan), np.full(n, np.nan)
    argmax = np.full(n, -1, dtype=np.int64)
    w = text_weights.float()
    for s in range(0, n, chunk):
        f = features[s:s + chunk].float()
        ok = torch.isfinite(f).all(dim=1)
        if not ok.any():
            continue
        probs = torch.softmax(F.normalize(f[ok], dim=-1) @ w.T, dim=-1)
        rows = torch.arange(s, s + len(f))[ok].numpy()
        top, arg = probs.max(dim=1)
        p_true[rows] = probs.gather(1, y[rows].unsqueeze(1)).squeeze(1).double().numpy()
        p_max[rows] = top.double().numpy()
        argmax[rows] = arg.numpy()
    return Scores(p_true, p_max, argmax)
