"""The classifier head: ``Linear(d, k)`` on L2-normalised frozen features, saved as safetensors + JSON (no pickle).

Logits are ``W · x/||x|| + b``; with the zero-shot initialisation that is ``logit_scale · cos(x, w_i)``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import _io
from ..errors import DataError

WEIGHTS_FILE = "head.safetensors"
CONFIG_FILE = "head.json"
HEADER_FORMAT = "synthrec.head/1"


class ClassifierHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int, normalize: bool = True, meta: dict | None = None):
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes)
        self.normalize = normalize
        self.meta: dict = dict(meta or {})

    @classmethod
    def from_weights(cls, weight: torch.Tensor, bias: torch.Tensor | None = None, normalize: bool = True,
                     meta: dict | None = None) -> "ClassifierHead":
        k, d = weight.shape
        head = cls(d, k, normalize=normalize, meta=meta)
        with torch.no_grad():
            head.linear.weight.copy_(weight.float())
            head.linear.bias.copy_(bias.float() if bias is not None else torch.zeros(k))
        return head

    @property
    def in_features(self) -> int:
        return self.linear.in_features

    @property
    def num_classes(self) -> int:
        return self.linear.out_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features.to(self.linear.weight.dtype)
        if self.normalize:
            x = F.normalize(x, dim=-1)
        return self.linear(x)

    def save(self, folder: str | os.PathLike) -> None:
        """Write ``head.safetensors`` (weight, bias) and ``head.json`` (shape, normalisation, metadata).

        The safetensors header carries the metadata too (class names, templates, encoder spec and fingerprint, as
        JSON strings), so the weights file alone says what it classifies and which encoder's features it needs.
        """
        folder = Path(folder)
        _io.write_safetensors(folder / WEIGHTS_FILE, {"weight": self.linear.weight.detach().cpu().contiguous(),
                                                      "bias": self.linear.bias.detach().cpu().contiguous()},
                              metadata=self._header())
        _io.write_json(folder / CONFIG_FILE, {"in_features": self.in_features, "num_classes": self.num_classes,
                                              "normalize": self.normalize, "meta": self.meta})

    def _header(self) -> dict[str, str]:
        header = {"format": HEADER_FORMAT, "normalize": json.dumps(self.normalize)}
        header.update({k: json.dumps(v, ensure_ascii=False) for k, v in self.meta.items()})
        return header

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ClassifierHead":
        """A head from a train-stage folder, or from a ``head.safetensors`` file alone (metadata from its header)."""
        from safetensors import safe_open
        from safetensors.torch import load_file

        path = Path(path)
        weights = path if path.is_file() else path / WEIGHTS_FILE
        if not weights.is_file():
            raise DataError(f"{path} holds no saved head ({WEIGHTS_FILE})",
                            "point at a folder written by the train stage, or at its head.safetensors")
        try:
            with safe_open(str(weights), framework="pt") as fh:
                header = fh.metadata() or {}
            tensors = load_file(str(weights))
        except Exception as exc:  # safetensors raises several types for a damaged file
            raise DataError(f"{weights} is not a readable safetensors file ({type(exc).__name__})",
                            "train the head again") from None
        config = weights.with_name(CONFIG_FILE)
        if config.is_file():
            cfg = _io.read_json(config)
        elif header.get("format") == HEADER_FORMAT:
            cfg = {"normalize": json.loads(header["normalize"]), "in_features": tensors["weight"].shape[1],
                   "num_classes": tensors["weight"].shape[0],
                   "meta": {k: json.loads(v) for k, v in header.items() if k not in ("format", "normalize")}}
        else:
            raise DataError(f"{weights} has neither a {CONFIG_FILE} beside it nor synthrec metadata in its header",
                            "use a head written by the train stage")
        head = cls.from_weights(tensors["weight"], tensors["bias"], normalize=cfg.get("normalize", True),
                                meta=cfg.get("meta"))
        if (head.in_features, head.num_classes) != (cfg["in_features"], cfg["num_classes"]):
            raise DataError(f"{weights} does not match {CONFIG_FILE}", "train the head again")
        return head
