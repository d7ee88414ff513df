"""Classifier tuning: ``synthrec.train.train_head`` against a loop written as the authors' code does it (per-sample
Dataset behind a DataLoader, a loss ``.item()`` every step), same features and epochs, alternating one-epoch runs,
best of three (train_head.py).

quick: 20 classes x 100 features x 512 dims on the CPU. Full: DESIGN.md §5's size, 1,000 classes x 800 x 1024 dims,
on the GPU when there is one.
"""
from __future__ import annotations

import train_head as bench  # a sibling: benchmarks/ is on sys.path when run.py runs


def run(quick: bool):
    import torch

    from synthrec.config.schema import TrainConfig
    from synthrec.train import train_head

    device = torch.device("cuda" if torch.cuda.is_available() and not quick else "cpu")
    classes, per_class, dim = (20, 100, 512) if quick else (1000, 800, 1024)
    x, y, init = bench.make_data(classes, per_class, dim)
    one = TrainConfig(device=str(device), epochs=1)
    train_head(x[:512], y[:512], init, one, seed=0, progress=False)  # warm-up: imports, allocator, kernels
    ours = naive = float("inf")
    for _ in range(3):  # alternate, keep the best: a shared machine slows both alike
        naive = min(naive, bench._timed(lambda: bench.naive_train(x, y, init, one, device), device))
        ours = min(ours, bench._timed(lambda: train_head(x, y, init, one, seed=0, progress=False), device))
    n = len(y)
    yield (f"train_head_vs_authors_loop: {naive / ours:.2f}x {n / ours:,.0f} features/s vs {n / naive:,.0f} "
           f"features/s ({device}, {classes} classes x {per_class} x {dim} dims, one epoch, best of 3)")
