"""Helpers shared by the encoder flavours: precision choice, weight identity, one-line errors."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

from ...errors import ConfigError

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_hash_memo: dict[tuple[str, int, int], str] = {}


def resolve_precision(precision: str | None, device: torch.device) -> str:
    """fp16 on CUDA (as the paper's CLIP ran), fp32 elsewhere: half-precision CPU kernels are slow or missing."""
    precision = precision or "auto"
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}", f"use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    if precision == "fp16" and device.type == "cpu":
        raise ConfigError("precision fp16 was asked for on the CPU", "use precision auto or fp32 on the CPU")
    return precision


def dtype_of(precision: str) -> torch.dtype:
    return _DTYPES[precision]


def file_identity(path: str | os.PathLike) -> str:
    """The sha256 of a weights file's content.

    Hugging Face hub caches store a file as ``blobs/<sha256>`` behind a symlink, so the name is taken when it is a
    64-hex digest (hashing a multi-GB checkpoint on every start would be slow); otherwise the file is hashed once per
    process and (path, size, mtime).
    """
    real = Path(os.path.realpath(path))
    if _HEX64.match(real.name):
        return real.name
    st = real.stat()
    key = (str(real), st.st_size, st.st_mtime_ns)
    if key not in _hash_memo:
        h = hashlib.sha256()
        with open(real, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        _hash_memo[key] = h.hexdigest()
    return _hash_memo[key]


def folder_identity(folder: str | os.PathLike) -> dict[str, str]:
    """Content hashes of every regular file in a model folder (weights, config, preprocessing, tokenizer).

    Content rather than the path goes into the fingerprint, so a moved or copied folder keeps its cache while an
    edited one never reuses it.
    """
    folder = Path(folder)
    return {p.name: file_identity(p) for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def one_line(exc: BaseException, limit: int = 240) -> str:
    """An exception's message squeezed onto one line, so errors built from it stay one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or os.path.exists(os.path.expanduser(text))


def jsonable(obj):
    """Config dicts made JSON-safe for hashing: tuples become lists, enums and other objects their ``str``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)
