"""The classifier head: ``Linear(d, k)`` on L2-normalised frozen features, saved as safetensors + JSON (no pickle).

Logits are ``W · x/||x|| + b``; with the zero-shot initialisation that is ``logit_scale · cos(x, w_i)``.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import _io
from ..errors import DataError

WEIGHTS_FILE = "head.safetensors"
CONFIG_FILE = "head.json"


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
        """Write ``head.safetensors`` (weight, bias) and ``head.json`` (shape, normalisation, metadata)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        with _io.atomic_path(folder / WEIGHTS_FILE) as tmp:
            save_file({"weight": self.linear.weight.detach().cpu().contiguous(),
                       "bias": self.linear.bias.detach().cpu().contiguous()}, str(tmp))
        _io.write_json(folder / CONFIG_FILE, {"in_features": self.in_features, "num_classes": self.num_classes,
                                              "normalize": self.normalize, "meta": self.meta})

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "ClassifierHead":
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / WEIGHTS_FILE).is_file() or not (folder / CONFIG_FILE).is_file():
            raise DataError(f"{folder} holds no saved head ({WEIGHTS_FILE} + {CONFIG_FILE})",
                            "point at a folder written by the train stage")
        cfg = _io.read_json(folder / CONFIG_FILE)
        tensors = load_file(str(folder / WEIGHTS_FILE))
        head = cls.from_weights(tensors["weight"], tensors["bias"], normalize=cfg.get("normalize", True),
                                meta=cfg.get("meta"))
        if (head.in_features, head.num_classes) != (cfg["in_features"], cfg["num_classes"]):
            raise DataError(f"{folder / WEIGHTS_FILE} does not match {CONFIG_FILE}", "train the head again")
        return head
