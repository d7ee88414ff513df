"""The CLIP-filter selection rule (METHOD.md §2.3.4), as a pure function of the scores.

Per class c, after removing undecodable images and exact duplicates (same sha256; the smallest image id stays):

    A = {images of c with p(c) > τ},  τ = 1/N by default (a float from the class count, never a string)
    no cap                   → keep A
    |A| > cap                → keep a uniformly random ``cap`` of A, seeded by (seed, c)
    |A| ≤ cap, fill_to_cap   → keep the top ``cap`` by p(c), which may go below τ (the paper's code)
    |A| ≤ cap                → keep A

Every order that matters (candidates before sampling, ties in p) is by image id, so the input order never changes
the result.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

THRESHOLD, RANDOM_SUBSET, FILL = "threshold", "random_subset", "fill_to_cap"


@dataclass
class Selection:
    duplicate: np.ndarray  # bool (n,): an exact copy of an earlier image (by id order)
    kept: np.ndarray  # bool (n,)
    selected_by: list  # per image: THRESHOLD, RANDOM_SUBSET, FILL or None
    threshold: float


def default_threshold(num_classes: int) -> float:
    return 1.0 / float(int(num_classes))


def find_duplicates(image_ids: Sequence[str], sha256: Sequence[str], valid: np.ndarray) -> np.ndarray:
    dup = np.zeros(len(image_ids), dtype=bool)
    first: dict[str, str] = {}
    for i in sorted(np.flatnonzero(valid), key=lambda j: image_ids[j]):
        if sha256[i] in first:
            dup[i] = True
        else:
            first[sha256[i]] = image_ids[i]
    return dup


def select(class_ids: Sequence[int], p_true: Sequence[float], image_ids: Sequence[str], sha256: Sequence[str], *,
           num_classes: int, seed: int, threshold: float | None = None, cap: int | None = None,
           fill_to_cap: bool = False, dedup: bool = True, valid: Sequence[bool] | None = None) -> Selection:
    n = len(image_ids)
    class_ids = np.asarray(class_ids, dtype=np.int64)
    p = np.asarray(p_true, dtype=np.float64)
    valid = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    tau = default_threshold(num_classes) if threshold is None else float(threshold)
    duplicate = find_duplicates(image_ids, sha256, valid)
    eligible = valid & ~duplicate if dedup else valid.copy()
    kept = np.zeros(n, dtype=bool)
    selected_by: list = [None] * n
    groups: dict[int, list[int]] = {}
    for j in np.flatnonzero(eligible):
        groups.setdefault(int(class_ids[j]), []).append(int(j))
    for c in range(num_classes):
        members = sorted(groups.get(c, []), key=lambda j: image_ids[j])
        above = [j for j in members if p[j] > tau]
        if cap is not None and len(above) > cap:
            rng = np.random.default_rng([int(seed), c])
            chosen = [above[j] for j in rng.choice(len(above), size=cap, replace=False)]
            how = {j: RANDOM_SUBSET for j in chosen}
        elif cap is not None and fill_to_cap:
            ranked = sorted(members, key=lambda j: (-p[j], image_ids[j]))[:cap]
            how = {j: THRESHOLD if p[j] > tau else FILL for j in ranked}
        else:
            how = {j: THRESHOLD for j in above}
        for j, why in how.items():
            kept[j] = True
            selected_by[j] = why
    return Selection(duplicate=duplicate, kept=kept, selected_by=selected_by, threshold=tau)
