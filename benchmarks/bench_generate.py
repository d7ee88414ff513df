"""Generator throughput: synthrec's batched generator against a naive one-prompt-at-a-time diffusers loop and
against plain batched diffusers, same model, steps and resolution, measured side by side (generate_throughput.py).

quick: a tiny random Stable Diffusion on the CPU at 32 px, 2 steps. Full: Stable Diffusion 1.5's architecture with
random weights (speed does not depend on the weights) at 512 px, 50 steps, batch 16, on the first GPU.
"""
from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout

import generate_throughput  # a sibling: benchmarks/ is on sys.path when run.py runs


def run(quick: bool):
    bench = generate_throughput
    if quick:
        args = ["--model", "tiny", "--size", "32", "--steps", "2", "--batch-size", "8", "--n-images", "16",
                "--n-naive", "8", "--repeats", "2", "--skip", "generate", "--threads", "2"]
    else:
        args = ["--model", "random-sd15", "--steps", "50", "--size", "512", "--batch-size", "16",
                "--n-images", "64", "--n-naive", "16", "--repeats", "2", "--skip", "generate"]
    log = io.StringIO()
    with redirect_stdout(log):  # its own report goes to stderr; the runner prints only the ratio lines
        out = bench.main(args)
    print(log.getvalue(), file=sys.stderr, end="")
    ips = out["images_per_s"]
    where = out["device"]
    yield (f"generator_vs_naive_loop: {ips['synthrec'] / ips['naive']:.2f}x {ips['synthrec']:.3f} img/s vs "
           f"{ips['naive']:.3f} img/s ({where}, {out['dtype']} vs fp32 batch 1)")
    yield (f"generator_vs_diffusers: {ips['synthrec'] / ips['diffusers']:.2f}x {ips['synthrec']:.3f} img/s vs "
           f"{ips['diffusers']:.3f} img/s ({where}, same dtype and batch)")
