"""Every derived seed in synthrec: a sha256 of a text naming what the seed is for, never Python's ``hash``
(salted per process) and never a counter, so a seed does not depend on batch, shard, worker, machine or order.

* :func:`derive_seed`: one generated image's seed, from (run seed, class, prompt, image index), so a resumed,
  re-sharded or multi-GPU run makes the same pixels as a single uninterrupted one;
* :func:`seed_from_text`: any other seed (LE draws, few-shot training), from a text naming it.
"""
from __future__ import annotations

import hashlib

SEED_BITS = 63  # fits a signed int64 Parquet column and torch.Generator.manual_seed


def seed_from_text(text: str, *, low_bits: bool = False) -> int:
    """63 bits of the text's sha256: the high ones, or the low ones (``low_bits``; the LE strategy's seeds have
    always been taken that way, and changing it would change every LE prompt set already made)."""
    word = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return word & (2**SEED_BITS - 1) if low_bits else word >> (64 - SEED_BITS)


def derive_seed(run_seed: int, class_id: int, prompt_id: int, image_index: int) -> int:
    """A stable 63-bit seed for one generated image."""
    return seed_from_text(f"synthrec/seed/v1:{int(run_seed)}:{int(class_id)}:{int(prompt_id)}:{int(image_index)}")
