"""CLIP tokenizers rebuilt offline from the BPE merges file that open_clip ships.

transformers ships no tokenizer files and the hub is out of reach in tests, so the real 49,408-token OpenAI CLIP
tokenizer is rebuilt from ``bpe_simple_vocab_16e6.txt.gz`` (its ids match open_clip's SimpleTokenizer).
"""
from __future__ import annotations

import functools
import gzip
import os


@functools.lru_cache(maxsize=1)
def _byte_chars() -> list[str]:
    # GPT-2's reversible byte→unicode table: printable bytes map to themselves, the rest to code points ≥ 256.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def real_clip_tokenizer():
    """The exact OpenAI CLIP tokenizer (49,408 tokens) as a transformers ``CLIPTokenizer``."""
    import open_clip
    from transformers import CLIPTokenizer

    path = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    lines = gzip.open(path).read().decode().split("\n")[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in lines]
    chars = _byte_chars()
    vocab = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(vocab)}, merges=merges, model_max_length=77)


def tiny_clip_tokenizer():
    """A byte-level CLIP tokenizer with 514 tokens and no merges: small embedding tables for tiny text encoders."""
    from transformers import CLIPTokenizer

    chars = _byte_chars()
    vocab = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(vocab)}, merges=[], model_max_length=77)
