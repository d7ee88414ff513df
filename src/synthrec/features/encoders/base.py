"""The one interface every image-text encoder meets: open_clip, Hugging Face CLIP and the glyph world's mini CLIP.

Stages (filter, features, train, evaluate) only ever talk to :class:`ImageTextEncoder`.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from PIL import Image


@dataclass(frozen=True)
class ImageTower:
    """The image side of an encoder as a trainable module, for tuning more than the head (METHOD.md §2.6).

    ``module`` holds every image-side parameter; ``forward(module, pixels)`` maps preprocessed pixels (N, C, H, W)
    to unnormalised embeddings with gradients; ``last_block`` names the submodules (or bare parameters) of the last
    block and everything after it, relative to ``module``.
    """

    module: torch.nn.Module
    forward: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]
    last_block: tuple[str, ...]


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

    def image_tower(self) -> ImageTower:
        """The trainable image side (``train.tune`` beyond the head); encoders that have none refuse."""
        from ...errors import ConfigError

        raise ConfigError(f"encoder {self.encoder_id!r} cannot be tuned beyond its head",
                          "set train.tune: head, or use an open_clip:, hf: (CLIP) or glyph encoder")

    @torch.no_grad()
    def encode_images(self, images: Sequence[Image.Image], batch_size: int = 256) -> torch.Tensor:
        out = []
        for i in range(0, len(images), batch_size):
            batch = self.preprocess_batch(images[i:i + batch_size])
            out.append(self.encode_pixels(batch))
        if not out:
            return torch.zeros(0, self.embed_dim)
        return torch.cat(out)
