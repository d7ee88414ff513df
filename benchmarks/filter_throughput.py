"""Benchmark: CLIP-filter scoring, batched through ``encode_items`` against one image per forward pass (the authors'
``select_glide_ims_by_clip.py`` shape), and a re-run served by the feature cache. Prints images/s and the ratios,
measured in this one run.

    python benchmarks/filter_throughput.py                                  # tiny offline CLIP, CPU
    python benchmarks/filter_throughput.py --encoder open_clip:RN50/openai --n 4096 --image-size 256   # on a GPU
"""
from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from synthrec._io import sha256_bytes
from synthrec.features import create_encoder, encode_items
from synthrec.testing.tiny_clip import build_tiny_open_clip


class _PngBytes:
    """An encoded image held in memory: decoding stays in the measurement, as it is in a real filter run."""

    def __init__(self, data: bytes):
        self.data = data
        self.source = "<memory>"

    def __call__(self) -> Image.Image:
        with Image.open(io.BytesIO(self.data)) as im:
            im.load()
            return im.convert("RGB")


def make_images(n: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n):
        # smooth random images compress like generated ones, unlike white noise
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(small).resize((size, size), Image.BICUBIC).save(buf, format="PNG")
        items.append((sha256_bytes(buf.getvalue()), _PngBytes(buf.getvalue())))
    return items


def one_at_a_time(encoder, items) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for _, load in items:
            out.append(encoder.encode_pixels(encoder.preprocess(load()).unsqueeze(0)))
    return torch.cat(out)


def _timed(fn, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    value = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default=None, help="encoder spec (default: a tiny random open_clip, offline)")
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--image-size", type=int, default=256, help="generated images are 256 px in the paper")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = args.encoder or build_tiny_open_clip(Path(tmp) / "tiny-clip", image_size=224, patch_size=32)
        encoder = create_encoder(spec, device=args.device)
        items = make_images(args.n, args.image_size)
        one_at_a_time(encoder, items[:4])  # warm-up
        print(f"{spec if args.encoder else 'tiny open_clip (224 px, random)'} on {encoder.device} "
              f"({encoder.precision}), {args.n} PNG images of {args.image_size} px")
        t_one, single = _timed(lambda: one_at_a_time(encoder, items), encoder.device)
        cache = Path(tmp) / "cache"
        t_batch, batched = _timed(lambda: encode_items(encoder, items, cache, batch_size=args.batch_size,
                                                       progress=False).features, encoder.device)
        t_cached, cached = _timed(lambda: encode_items(encoder, items, cache, batch_size=args.batch_size,
                                                       progress=False).features, encoder.device)
        assert torch.allclose(single, batched, atol=2e-3 if encoder.precision != "fp32" else 1e-4)
        assert torch.equal(batched, cached)
        rate = lambda t: args.n / t  # noqa: E731
        print(f"one image per forward : {rate(t_one):9.1f} img/s")
        print(f"batched ({args.batch_size}) + cache write: {rate(t_batch):9.1f} img/s  -> {t_one / t_batch:.2f}x")
        print(f"re-run from the cache  : {rate(t_cached):9.1f} img/s  -> {t_one / t_cached:.2f}x")


if __name__ == "__main__":
    main()
