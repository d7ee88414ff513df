"""Head tuning's peak memory against the features it trains on (issue 15, target 4: at most 1.5x), with the same
head as before to tolerance.

Each arm is one process (``_arms.py``): it builds the features in place (chunk by chunk, so building them costs no
temporaries), notes its resident memory without them, runs ``train_head`` (SCE on, one epoch: memory does not grow
with epochs) and reports its peak resident memory (VmHWM) above that, divided by the features' bytes. The
``_before`` line runs the code of ``_arms.BEFORE_REF``; both heads are compared.

quick: 100,000 features x 512 dims x 500 classes (soft targets as large as the features, as at the paper's size).
Full: the paper's size, 800 x 1,000 classes x 1,024 dims.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _arms
from _common import arms_with_before, skipped_before_line

DRIVER = r'''
import json, sys, time
import torch
import torch.nn.functional as F

n, d, k, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
from synthrec.config.schema import TrainConfig
from synthrec.train import train_head


def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"no {field} in /proc/self/status")


g = torch.Generator().manual_seed(0)
centers = F.normalize(torch.randn(k, d, generator=g), dim=-1)
init = F.normalize(centers + 0.05 * torch.randn(k, d, generator=g), dim=-1) * 100.0
y = torch.arange(n) % k
cfg = TrainConfig(device="cpu", epochs=1, sce_weight=0.5)
train_head(torch.randn(600, d), y[:600], init, cfg, seed=0, progress=False)  # warm-up: imports, allocator, kernels
base = status("VmRSS")
feats = torch.empty(n, d)
for s in range(0, n, 2048):  # small chunks: building the features must not set the peak
    e = min(n, s + 2048)
    feats[s:e] = centers[y[s:e]] + 0.05 * torch.randn(e - s, d, generator=g)
t0 = time.perf_counter()
result = train_head(feats, y, init, cfg, seed=0, progress=False)
seconds = time.perf_counter() - t0
torch.save({"weight": result.head.linear.weight.detach()}, out)
print(json.dumps({"peak": status("VmHWM") - base, "features": feats.numel() * feats.element_size(),
                  "seconds": seconds}))
'''


def run(quick: bool):
    import torch

    n, d, k = (100_000, 512, 500) if quick else (800_000, 1024, 1000)
    arms = arms_with_before()
    with tempfile.TemporaryDirectory() as tmp:
        results = {arm: _arms.run_python(src, DRIVER, str(n), str(d), str(k), os.path.join(tmp, f"{arm}.pt"))
                   for arm, src in arms.items()}
        heads = {arm: torch.load(Path(tmp) / f"{arm}.pt", weights_only=True)["weight"] for arm in arms}
    same = ""
    if "before" in heads:
        diff = float((heads["after"] - heads["before"]).abs().max())
        same = f"; max |weight difference| to the before head {diff:.1e}"
    gib = 1024 ** 3
    for arm, r in results.items():
        ratio = r["peak"] / r["features"]
        code = "this checkout" if arm == "after" else f"code of {_arms.BEFORE_REF}"
        yield (f"head_tuning_peak_memory{'' if arm == 'after' else '_before'}: {ratio:.2f}x "
               f"{r['peak'] / gib:.2f} GiB peak vs {r['features'] / gib:.2f} GiB of features ({n:,} x {d} float32, "
               f"{k} classes, SCE, one epoch in {r['seconds']:.0f} s; {code}; CPU{same}; target <= 1.50x)")
    if "before" not in arms:
        yield skipped_before_line("head_tuning_peak_memory")
