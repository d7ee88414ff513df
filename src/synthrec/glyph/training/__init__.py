"""Training the glyph world's models from a seed (``synthrec glyph train``): one module per model (``clip``,
``diffusion``, ``le``), ``measure`` and ``cards`` for the model cards, ``run`` for the whole recipe.
"""
from .run import PARTS, train_all, train_part

__all__ = ["PARTS", "train_all", "train_part"]
