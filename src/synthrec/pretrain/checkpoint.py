"""Checkpoints without pickle: one safetensors file holds the model, the optimizer and any extra modules' tensors;
its header metadata holds the JSON of everything else (architecture, schedule position, curves).

A file is written to a temporary name and renamed, so a kill leaves the previous checkpoint intact. ``state.json``
beside it repeats the JSON part for people and tools that do not read safetensors headers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import CheckpointError

FORMAT = "synthrec.pretrain/1"
META_KEY = "synthrec"


@dataclass
class Checkpoint:
    """What a checkpoint holds: tensors by prefix (``model.``, ``optim.``, ``extra.<name>.``) and the JSON meta."""

    model: dict[str, Any]
    meta: dict[str, Any]
    optimizer: dict[str, Any] | None = None
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


def _cpu(t):
    return t.detach().to("cpu").contiguous().clone()


def _flatten_optimizer(state: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    import torch

    tensors, scalars = {}, {}
    for pid, slots in state["state"].items():
        for name, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{name}"] = _cpu(value)
            else:
                scalars[f"{pid}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, Any], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for key, value in meta["scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(path: str | Path, model_state: dict, meta: dict, optimizer_state: dict | None = None,
                    extra: dict[str, dict] | None = None) -> Path:
    """Write ``path`` (a .safetensors file) and ``state.json`` beside it, each atomically."""
    path = Path(path)
    tensors = {f"model.{k}": _cpu(v) for k, v in model_state.items()}
    meta = {"format": FORMAT, **meta}
    if optimizer_state is not None:
        opt_tensors, opt_meta = _flatten_optimizer(optimizer_state)
        tensors.update(opt_tensors)
        meta["optimizer"] = opt_meta
    for name, state in (extra or {}).items():
        tensors.update({f"extra.{name}.{k}": _cpu(v) for k, v in state.items()})
    header = json.dumps(meta, default=_io._json_default)
    _io.write_safetensors(path, tensors, metadata={META_KEY: header})
    _io.write_json(path.with_name("state.json"), {k: v for k, v in meta.items() if k != "optimizer"})
    return path


def read_meta(path: str | Path) -> dict[str, Any] | None:
    """The JSON part of a synthrec checkpoint, or None for a plain safetensors state dict (e.g. timm weights)."""
    from safetensors import safe_open

    path = _existing(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = (fh.metadata() or {}).get(META_KEY)
    except Exception as exc:  # noqa: BLE001 -- safetensors raises several types for a damaged file
        raise CheckpointError(f"{path} is not a readable safetensors file ({type(exc).__name__})",
                              "pass a checkpoint written by `synthrec pretrain` or a safetensors state dict") from None
    return json.loads(header) if header else None


def load_checkpoint(path: str | Path) -> Checkpoint:
    from safetensors.torch import load_file

    path = _existing(path)
    meta = read_meta(path)
    tensors = load_file(str(path))
    if meta is None:  # a plain state dict: everything is model weights
        return Checkpoint(model=dict(tensors), meta={})
    model, opt, extra = {}, {}, {}
    for key, value in tensors.items():
        kind, rest = key.split(".", 1)
        if kind == "model":
            model[rest] = value
        elif kind == "optim":
            opt[key] = value
        elif kind == "extra":
            name, sub = rest.split(".", 1)
            extra.setdefault(name, {})[sub] = value
    optimizer = _unflatten_optimizer(opt, meta["optimizer"]) if "optimizer" in meta else None
    return Checkpoint(model=model, meta=meta, optimizer=optimizer, extra=extra)


def _existing(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "last.safetensors"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist",
                              "pass a .safetensors file or a pre-training run's checkpoints folder")
    return path
