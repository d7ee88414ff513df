"""The glyph world's pipeline (offline, shipped weights) as a :class:`Generator`.

``synthrec.glyph.models.pipeline`` is imported only when a ``glyph`` spec is used, so the rest of generation works without
it. Its ``__call__`` mirrors Stable Diffusion's, and image-to-image is the same pipeline with ``image`` + ``strength``.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import ModelLoadError
from .diffusers import PipelineGenerator, resolve_device, resolve_dtype


class GlyphGenerator(PipelineGenerator):
    backend = "glyph"

    @classmethod
    def load(cls, path: str | None = None, *, device: str = "auto", dtype: str = "auto", generator_id: str = "glyph",
             **kw) -> "GlyphGenerator":
        try:
            from synthrec.glyph.models.pipeline import load_glyph_pipeline
        except ImportError as exc:
            raise ModelLoadError(f"the glyph world's pipeline is not available ({exc})",
                                 "install synthrec with its glyph weights, or use a diffusers model id") from None
        if path is not None and not Path(path).expanduser().exists():
            raise ModelLoadError(f"glyph pipeline path {path!r} does not exist",
                                 "give the folder written by the glyph trainer, or plain `glyph` for the shipped one")
        device = resolve_device(device)
        # The glyph UNet is tiny and trained in fp32; "auto" keeps fp32 even on CUDA.
        dtype = "fp32" if dtype == "auto" else resolve_dtype(dtype, device)
        pipe = load_glyph_pipeline(path=str(Path(path).expanduser()) if path else None, device=device)
        if dtype != "fp32":
            import torch

            pipe = pipe.to(dtype={"fp16": torch.float16, "bf16": torch.bfloat16}[dtype])
        return cls(pipe, generator_id=generator_id, device=device, dtype=dtype, **kw)

    def _img2img_pipe(self):
        return self.pipe

    def _prepare_init(self, images):
        return list(images)  # the glyph pipeline converts and resizes its own inputs
