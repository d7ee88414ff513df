"""synthrec: image classifiers from a label space, trained on synthetic data from text-to-image models."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import SynthrecError  # noqa: E402
from .labels import LabelSpace  # noqa: E402



def load_classifier(path, **kwargs):
    """The classifier of a finished run folder: ``.predict(images)`` -> class names (see :mod:`synthrec.classifier`)."""
    from .classifier import load_classifier as _load

    return _load(path, **kwargs)


__all__ = ["LabelSpace", "SynthrecError", "__version__", "load_classifier"]
