"""The local executor: ``generate()`` with 2 worker processes against 1, same plan, end to end (worker start-up,
model load, generation, PNG encoding, tar and manifest writing), each into a fresh folder.

quick: a tiny random Stable Diffusion (32 px, 2 steps) on the CPU, 2 workers sharing the cores (each gets half
the threads), so the ratio measures the executor's overhead and what overlapping buys, not more hardware. Full: one
worker per visible GPU (at least 2) against one worker, Stable Diffusion 1.5's architecture with random weights at
512 px.
"""
from __future__ import annotations

import os
import tempfile
import time


def _time_generate(prompts, cfg, out_dir) -> float:
    from synthrec.generate import generate

    t0 = time.perf_counter()
    result = generate(prompts, cfg, out_dir, progress=False)
    seconds = time.perf_counter() - t0
    assert result.complete
    return result.num_images / seconds


def run(quick: bool):
    import pyarrow as pa
    import torch

    from synthrec.config.schema import GenerateConfig

    tmp = tempfile.mkdtemp(prefix="synthrec-bench-exec-")
    if quick:
        from synthrec.testing.tiny_sd import build_tiny_sd

        model = build_tiny_sd(os.path.join(tmp, "tiny-sd"), sample_size=16, layers_per_block=1)  # 32 px
        n_workers, device, extra = 2, "cpu", dict(steps=2, images_per_prompt=3, shard_size=3, batch_size=3)
    else:
        from generate_throughput import build_random_sd15  # a sibling: benchmarks/ is on sys.path

        model = build_random_sd15(os.path.join(tmp, "random-sd15"))
        n_workers = max(2, torch.cuda.device_count())
        device = "auto"
        extra = dict(steps=50, height=512, width=512, images_per_prompt=16 * n_workers, shard_size=16, batch_size=16)
    prompts = pa.table({"class_id": list(range(8)), "prompt_id": list(range(8)),
                        "text": [f"a photo of a thing number {i}" for i in range(8)]})
    rates = {1: [], n_workers: []}
    for r in range(2):  # alternate the arms; the best round counts
        for n in (1, n_workers):
            cfg = GenerateConfig(generator=model, guidance_scale=3.0, device=device, num_workers=n, **extra)
            rates[n].append(_time_generate(prompts, cfg, os.path.join(tmp, f"out-{n}-{r}")))
    one, many = max(rates[1]), max(rates[n_workers])
    where = torch.cuda.get_device_name(0) if (not quick and torch.cuda.is_available()) else \
        f"CPU, {os.cpu_count()} cores"
    yield (f"local_executor_{n_workers}_workers_vs_1: {many / one:.2f}x {many:.2f} img/s vs {one:.2f} img/s "
           f"({where}, {8 * extra['images_per_prompt']} images, end to end; target >= {0.9 * n_workers:.1f}x "
           f"with one GPU per worker)")
