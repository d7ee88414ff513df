"""The generator interface: prompts and per-image seeds in, PIL images out.

Any diffusers text-to-image pipeline (and the glyph world's pipeline) sits behind it. Each image gets its own
``torch.Generator`` seeded from its work unit, so an image does not depend on which batch or worker made it.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Sequence

from PIL import Image


@dataclass
class GenerationOutput:
    images: list[Image.Image]
    seeds: list[int]
    meta: dict[str, Any] = field(default_factory=dict)


class Generator(abc.ABC):
    """Attributes: ``generator_id`` (the spec it was created from) and ``settings`` (a JSON-able dict recorded in
    the manifest: steps, guidance scale, resolution, dtype, scheduler)."""

    generator_id: str
    settings: dict[str, Any]
    supports_img2img: bool = False

    @abc.abstractmethod
    def text_to_image(self, prompts: Sequence[str], seeds: Sequence[int]) -> GenerationOutput:
        """One image per (prompt, seed) pair."""

    def image_to_image(self, prompts: Sequence[str], seeds: Sequence[int], images: Sequence[Image.Image],
                       strength: float) -> GenerationOutput:
        """Real Guidance: noise each init image to ``strength`` of the chain, then denoise with its prompt."""
        raise NotImplementedError(f"{self.generator_id} has no image-to-image mode")
