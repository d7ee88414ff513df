"""Per-image seeds.

An image's seed depends only on (run seed, class, prompt, image index), never on the batch, shard, worker or machine
that makes it, so a resumed, re-sharded or multi-GPU run makes the same pixels as a single uninterrupted one.
Python's ``hash`` is salted per process (PYTHONHASHSEED), so the seed comes from sha256.
"""
from __future__ import annotations

import hashlib

SEED_BITS = 63  # fits a signed int64 Parquet column and torch.Generator.manual_seed


def derive_seed(run_seed: int, class_id: int, prompt_id: int, image_index: int) -> int:
    """A stable 63-bit seed for one image."""
    msg = f"synthrec/seed/v1:{int(run_seed)}:{int(class_id)}:{int(prompt_id)}:{int(image_index)}".encode()
    return int.from_bytes(hashlib.sha256(msg).digest()[:8], "big") >> (64 - SEED_BITS)
