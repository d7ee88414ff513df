"""Real Filtering (RF, METHOD.md §3.2): drop synthetic images that look more like another class's real shots.

The paper names the idea ("filter out synthetic images whose features are very close to the features of real
samples that belong to other categories") but gives no distance, threshold or model, and released no code. The rule
here is the parameter-free reading: a nearest-shot vote in the CLIP feature space.

    keep image x of intended class c  ⇔  max_{s ∈ shots(c)} cos(f(x), f(s))  ≥  max_{s ∈ shots(≠c)} cos(f(x), f(s))

i.e. keep it exactly when its nearest real shot (cosine) belongs to its own class; ties keep. It needs no threshold,
so it behaves the same for 1 shot and for 16, and with one shot per class it is the 1-nearest-neighbour classifier
of the shots agreeing with the prompt's label.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import DataError


@dataclass
class RealFilterResult:
    keep: torch.Tensor        # (N,) bool
    own: torch.Tensor         # (N,) cosine to the nearest shot of the intended class
    other: torch.Tensor       # (N,) cosine to the nearest shot of any other class
    nearest_class: torch.Tensor  # (N,) class of the nearest shot

    @property
    def num_kept(self) -> int:
        return int(self.keep.sum())


def real_filter(syn_feats: torch.Tensor, syn_labels: torch.Tensor, shot_feats: torch.Tensor,
                shot_labels: torch.Tensor, num_classes: int | None = None, chunk: int = 8192) -> RealFilterResult:
    """Apply the nearest-shot rule above; features need not be normalised (cosine is taken here)."""
    syn_labels = torch.as_tensor(syn_labels, dtype=torch.long)
    shot_labels = torch.as_tensor(shot_labels, dtype=torch.long)
    n_cls = int(num_classes if num_classes is not None else
                max(int(syn_labels.max(initial=-1)), int(shot_labels.max(initial=-1))) + 1)
    missing = sorted(set(syn_labels.tolist()) - set(shot_labels.tolist()))
    if missing:
        raise DataError(f"Real Filtering has no real shot of class {missing[0]}",
                        "give at least one real shot of every class that has synthetic images")
    shots = F.normalize(shot_feats.float(), dim=-1)
    # (C, S) mask: which shots belong to which class; a class's best similarity is a masked max.
    member = F.one_hot(shot_labels, n_cls).T.bool()
    own, other, nearest = [], [], []
    for i in range(0, len(syn_feats), chunk):
        x = F.normalize(syn_feats[i:i + chunk].float(), dim=-1)
        y = syn_labels[i:i + chunk]
        sim = x @ shots.T                                                       # (B, S)
        per_class = sim[:, None, :].masked_fill(~member[None], float("-inf")).amax(-1)  # (B, C)
        own.append(per_class.gather(1, y[:, None]).squeeze(1))
        other.append(per_class.scatter(1, y[:, None], float("-inf")).amax(1))
        nearest.append(shot_labels[sim.argmax(1)])
    if not own:
        empty = torch.zeros(0)
        return RealFilterResult(torch.zeros(0, dtype=torch.bool), empty, empty, torch.zeros(0, dtype=torch.long))
    own_t, other_t = torch.cat(own), torch.cat(other)
    return RealFilterResult(keep=own_t >= other_t, own=own_t, other=other_t, nearest_class=torch.cat(nearest))
