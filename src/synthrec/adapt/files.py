"""Adapter files: safetensors with a ``synthrec`` header entry that says what the adapter is and what it was made from.

The header is safetensors' own string metadata, which diffusers ignores, so the same file loads with plain
``load_lora_weights`` / ``load_textual_inversion``. synthrec reads it to reuse an adapter whose content key matches
(same shots, base model and settings) and to refuse, in one line, a file made for another base model.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import AdapterError

HEADER_KEY = "synthrec"


def write_adapter(path: str | Path, tensors: dict, info: dict[str, Any], extra_metadata: dict[str, str] | None = None
                  ) -> Path:
    """Write ``tensors`` atomically with ``info`` (JSON) under the ``synthrec`` header key."""
    path = Path(path)
    metadata = {"format": "pt", **(extra_metadata or {}), HEADER_KEY: json.dumps(info, sort_keys=True)}
    _io.write_safetensors(path, {k: v.detach().contiguous().cpu() for k, v in tensors.items()}, metadata=metadata)
    return path


def read_info(path: str | Path) -> dict[str, Any]:
    """The ``synthrec`` header of an adapter file ({} for a file made elsewhere); a one-line error for a missing or
    unreadable file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise AdapterError(f"adapter file {path} does not exist", "check the path, or rerun to train it")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            fh.keys()
    except Exception as exc:  # safetensors raises its own error types for truncated or foreign files
        raise AdapterError(f"adapter file {path} is not a readable safetensors file ({_one_line(exc)})",
                           "delete it: the next run trains it again") from None
    try:
        return json.loads(meta.get(HEADER_KEY, "{}"))
    except ValueError:
        raise AdapterError(f"adapter file {path} has a damaged synthrec header",
                           "delete it: the next run trains it again") from None


def check_adapter(path: str | Path, *, kind: str, base_model: str) -> dict[str, Any]:
    """The file's header, after checking it is a ``kind`` adapter made for ``base_model`` (a base fingerprint)."""
    info = read_info(path)
    if not info:
        return info  # made outside synthrec: diffusers' own loader is the judge
    if info.get("kind") != kind:
        raise AdapterError(f"{path} is a {info.get('kind')!r} adapter, not {kind!r}",
                           f"load it as {info.get('kind')}, or point at a {kind} file")
    if info.get("base_model") != base_model:
        raise AdapterError(f"adapter {path} was trained on another base model (fingerprint "
                           f"{str(info.get('base_model'))[:12]}, this generator is {base_model[:12]})",
                           "use the generator it was trained on, or delete it so the next run trains a new one")
    return info


def reusable(path: str | Path, key: str) -> bool:
    """True when ``path`` is a finished adapter whose content key is ``key`` (same shots, base model, settings)."""
    try:
        return read_info(path).get("key") == key
    except AdapterError:
        return False


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]
