"""The one device resolver: ``auto`` means the first CUDA GPU when one is visible, else the CPU.

Every stage's ``device`` setting goes through :func:`resolve_device`, so the same word means the same device in
prompts (LE), generation, the filter, feature extraction and training.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    import torch


def resolve_device(device: "str | torch.device | None" = "auto", setting: str = "device") -> "torch.device":
    """``auto``/None -> cuda when available, else cpu; an explicit CUDA device without CUDA is a one-line error
    naming ``setting`` (e.g. ``generate.device``)."""
    import torch

    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"unknown {setting} {str(device)!r}", "use auto, cpu, cuda or cuda:<index>") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{setting} is {str(device)!r} but no CUDA GPU is visible",
                          "set it to auto (or cpu), or check CUDA_VISIBLE_DEVICES and the driver")
    return dev
