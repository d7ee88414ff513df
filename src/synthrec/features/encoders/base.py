"""The one interface every image-text encoder meets: open_clip, Hugging Face CLIP and the glyph world's mini CLIP.

Stages (filter, features, train, evaluate) only ever talk to :class:`ImageTextEncoder`.
"""
from __future__ import annotations

import abc
from typing import Sequence

import torch
from PIL import Image


class ImageTextEncoder(abc.ABC):
    """Encodes images and texts into one L2-normalised embedding space.

    Attributes:
        encoder_id: the spec it was created from, e.g. ``open_clip:RN50/openai``.
        fingerprint: a hash of everything that changes the features (weights identity, preprocessing); the feature
            cache keys on it, never on a name alone.
        logit_scale: the multiplier CLIP applies to cosine similarities (about 100 for released CLIP).
        embed_dim: size of the embeddings.
    """

    encoder_id: str
    fingerprint: str
    logit_scale: float
    embed_dim: int
    device: torch.device

    @abc.abstractmethod
    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """One PIL image to the model's input tensor (C, H, W)."""

    def preprocess_batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Several PIL images to one input batch (N, C, H, W); encoders with a vectorised path override it."""
        return torch.stack([self.preprocess(im) for im in images])

    @abc.abstractmethod
    def encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """A batch of preprocessed tensors (N, C, H, W) to embeddings (N, D), float32, L2-normalised, on CPU."""

    @abc.abstractmethod
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Texts to embeddings (N, D), float32, L2-normalised, on CPU."""

    @torch.no_grad()
    def encode_images(self, images: Sequence[Image.Image], batch_size: int = 256) -> torch.Tensor:
        out = []
        for i in range(0, len(images), batch_size):
            batch = self.preprocess_batch(images[i:i + batch_size])
            out.append(self.encode_pixels(batch))
        if not out:
            return torch.zeros(0, self.embed_dim)
        return torch.cat(out)
