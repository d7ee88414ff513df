"""The few-shot trainers on frozen features (METHOD.md §3.3-3.4): mix training and its baselines.

Mix training, per step: a synthetic batch (512) under the zero-shot loss (λ·SCE + (1−λ)·CE against the frozen
zero-shot head) plus a real batch (32) under plain CE, summed 1:1. An epoch is one pass over the synthetic data;
the cosine schedule runs over epochs × synthetic batches, with the batch sizes actually used (the authors' code
built both feature loaders with batch 128 and scheduled as if it were 512, METHOD.md §3.3).

The real batches come from an endless stream of seeded shuffles of the shots, cut into batches of exactly
``real_batch_size``: a batch may straddle two shuffles, and with fewer shots than the batch size (10 classes × 1
shot < 32) it repeats shots, so every step sees the configured real batch size and every shot is seen equally often.

The same loop gives the baselines: real only ("CT w. init": an epoch is one pass over the shots, CE) and, chained
by :func:`phase_wise`, syn→real and real→syn. Encoder and BatchNorm stay frozen because only cached features reach
this module. The head returned is the final epoch's; nothing here sees a test set.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from ..errors import DataError
from ..train import ClassifierHead, EpochRecord, epoch_batches, fit, frozen_copy, soft_target_loss

BatchHook = Callable[[dict], None]


@dataclass
class Features:
    feats: torch.Tensor   # (n, d) frozen encoder features
    labels: torch.Tensor  # (n,) class ids

    def __post_init__(self):
        self.feats = torch.as_tensor(self.feats).float()
        self.labels = torch.as_tensor(self.labels, dtype=torch.long).reshape(-1)
        if self.feats.dim() != 2 or len(self.feats) != len(self.labels):
            raise DataError(f"{tuple(self.feats.shape)} features for {len(self.labels)} labels",
                            "pass (n, d) features with one label per row")
        if not torch.isfinite(self.feats).all():
            raise DataError("some feature rows are not finite (images that failed to decode?)",
                            "drop the failed images before training")

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class TuneResult:
    head: ClassifierHead
    curve: list[EpochRecord]
    steps: int
    steps_per_epoch: int
    syn_batches: int = 0
    real_batches: int = 0
    seconds: float = 0.0
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"steps": self.steps, "steps_per_epoch": self.steps_per_epoch, "syn_batches": self.syn_batches,
                "real_batches": self.real_batches, "seconds": self.seconds, **self.meta,
                "curve": [r.as_dict() for r in self.curve]}


class RealStream:
    """Endless batches of exactly ``batch_size`` indices into ``n`` items, from successive seeded permutations."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator):
        if n < 1:
            raise DataError("mix training got no real shots", "sample at least one shot per class")
        self.n, self.batch_size, self.generator = n, int(batch_size), generator
        self._buf = torch.empty(0, dtype=torch.long)

    def next(self) -> torch.Tensor:
        while len(self._buf) < self.batch_size:
            self._buf = torch.cat([self._buf, torch.randperm(self.n, generator=self.generator)])
        out, self._buf = self._buf[:self.batch_size], self._buf[self.batch_size:]
        return out


def tune(init: ClassifierHead, *, syn: Optional[Features] = None, real: Optional[Features] = None,
         teacher: Optional[ClassifierHead] = None, epochs: int, lr: float, weight_decay: float,
         syn_batch_size: int = 512, real_batch_size: int = 32, sce_weight: float = 0.5, temperature: float = 2.0,
         real_weight: float = 1.0, syn_weight: float = 1.0, grad_clip: float | None = 1.0, seed: int = 0,
         device: str | torch.device = "cpu", on_batch: BatchHook | None = None, progress: bool = False,
         desc: str = "few-shot tuning") -> TuneResult:
    """Tune a copy of ``init``: mix training when both ``syn`` and ``real`` are given, else on the one given.

    ``teacher`` is the frozen zero-shot head whose tempered logits are the soft targets of synthetic batches
    (default: ``init`` itself, i.e. the zero-shot head when tuning starts from it). ``on_batch`` sees every step's
    ``{"epoch", "step", "syn_idx", "real_idx"}`` (for tests and logging).
    """
    if syn is None and real is None:
        raise ValueError("tune needs synthetic or real features")
    if syn is not None and len(syn) == 0:
        raise DataError("no synthetic images are left to train on", "generate more images or loosen the filters")
    k, d = init.num_classes, init.in_features
    for name, part in (("synthetic", syn), ("real", real)):
        if part is not None and part.feats.shape[1] != d:
            raise DataError(f"{name} features have dimension {part.feats.shape[1]} but the head expects {d}",
                            "encode every image with the encoder the head was built from")
        if part is not None and len(part) and (int(part.labels.min()) < 0 or int(part.labels.max()) >= k):
            raise DataError(f"{name} labels must lie in [0, {k})", "use class ids of the label space")
    device = torch.device(device)
    head = ClassifierHead.from_weights(init.linear.weight.detach(), init.linear.bias.detach(),
                                       normalize=init.normalize, meta=init.meta).to(device)
    use_sce = syn is not None and sce_weight > 0
    teach = frozen_copy(teacher if teacher is not None else init).to(device) if use_sce else None
    sf = sy = rf = ry = None
    if syn is not None:
        sf, sy = syn.feats.to(device), syn.labels.to(device)
    if real is not None:
        rf, ry = real.feats.to(device), real.labels.to(device)
    # Two generators: the real stream's shuffles must not shift when the synthetic set's size changes.
    g_syn = torch.Generator().manual_seed(int(seed))
    g_real = torch.Generator().manual_seed(int(seed) + 1_000_003)
    stream = RealStream(len(real), real_batch_size, g_real) if real is not None else None
    if syn is not None:
        steps_per_epoch = math.ceil(len(syn) / syn_batch_size)
    else:
        steps_per_epoch = max(1, math.ceil(len(real) / real_batch_size))
    counts = {"syn": 0, "real": 0, "step": 0}

    def batches(epoch: int):
        syn_batches = epoch_batches(len(syn), syn_batch_size, g_syn) if syn is not None else [None] * steps_per_epoch
        for s_idx in syn_batches:
            r_idx = stream.next() if stream is not None else None
            if on_batch is not None:
                on_batch({"epoch": epoch, "step": counts["step"], "syn_idx": s_idx, "real_idx": r_idx})
            counts["step"] += 1
            yield s_idx, r_idx

    def loss_fn(batch):
        s_idx, r_idx = batch
        loss = torch.zeros((), device=device)
        n = 0
        if s_idx is not None:
            s_idx = s_idx.to(device)
            x, y = sf[s_idx], sy[s_idx]
            logits = head(x)
            if teach is not None:
                with torch.no_grad():
                    t_logits = teach(x)
                syn_loss = soft_target_loss(logits, t_logits, y, sce_weight, temperature)
            else:
                syn_loss = soft_target_loss(logits, None, y, sce_weight=0.0)
            loss = loss + syn_weight * syn_loss
            counts["syn"] += 1
            n += len(s_idx)
        if r_idx is not None:
            r_idx = r_idx.to(device)
            loss = loss + real_weight * F.cross_entropy(head(rf[r_idx]).float(), ry[r_idx])
            counts["real"] += 1
            n = n or len(r_idx)
        return loss, n

    t0 = time.perf_counter()
    curve = fit(head, epochs=epochs, steps_per_epoch=steps_per_epoch, batches=batches, loss_fn=loss_fn, lr=lr,
                weight_decay=weight_decay, grad_clip=grad_clip, progress=progress, desc=desc)
    mode = "mix" if syn is not None and real is not None else ("synthetic" if syn is not None else "real")
    meta = {"mode": mode, "epochs": epochs, "lr": lr, "weight_decay": weight_decay, "seed": int(seed),
            "syn_batch_size": syn_batch_size if syn is not None else None,
            "real_batch_size": real_batch_size if real is not None else None,
            "n_syn": len(syn) if syn is not None else 0, "n_real": len(real) if real is not None else 0,
            "sce_weight": sce_weight if syn is not None else None, "temperature": temperature if use_sce else None}
    return TuneResult(head=head.cpu(), curve=curve, steps=epochs * steps_per_epoch, steps_per_epoch=steps_per_epoch,
                      syn_batches=counts["syn"], real_batches=counts["real"], seconds=time.perf_counter() - t0,
                      meta=meta)


def phase_wise(init: ClassifierHead, order: str, *, syn: Features, real: Features, lr: float, seed: int,
               **kw) -> TuneResult:
    """Table 7's ablation: ``order`` "syn_real" tunes on synthetic data then on the shots, "real_syn" the reverse;
    each phase is a full run (its own epochs and cosine, lr 2e-3 in the paper), the second starting from the
    first's final head. Synthetic phases keep the zero-shot head as the soft-target teacher."""
    if order not in ("syn_real", "real_syn"):
        raise ValueError(f"unknown phase order {order!r}")
    first, second = (("syn", syn), ("real", real)) if order == "syn_real" else (("real", real), ("syn", syn))
    results = []
    head = init
    for i, (what, data) in enumerate((first, second)):
        part = {what: data}
        r = tune(head, teacher=init, lr=lr, seed=int(seed) + i, desc=f"phase {i + 1} ({what})", **part, **kw)
        results.append(r)
        head = r.head
    a, b = results
    return TuneResult(head=b.head, curve=a.curve + b.curve, steps=a.steps + b.steps,
                      steps_per_epoch=b.steps_per_epoch, syn_batches=a.syn_batches + b.syn_batches,
                      real_batches=a.real_batches + b.real_batches, seconds=a.seconds + b.seconds,
                      meta={"mode": f"phase_{order}", "phases": [a.meta, b.meta]})
