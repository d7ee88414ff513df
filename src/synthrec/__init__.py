"""synthrec: image classifiers from a label space, trained on synthetic data from text-to-image models."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import SynthrecError  # noqa: E402
from .labels import LabelSpace  # noqa: E402

__all__ = ["LabelSpace", "SynthrecError", "__version__"]
