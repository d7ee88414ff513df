"""A tiny, randomly initialised Stable Diffusion pipeline for offline tests and CPU benchmarks.

Shaped like diffusers' own test components (OFFLINE.md §3b): the real ``StableDiffusionPipeline`` classes, so every
code path a user's SD checkpoint takes (save/load, schedulers, img2img via ``from_pipe``) runs, in about 0.1 s per
64 px image on a CPU. The weights are random: its pictures are noise, which is all a test of plumbing needs.
"""
from __future__ import annotations

import os
from pathlib import Path


def build_tiny_sd(out_dir: str | os.PathLike, seed: int = 0, sample_size: int = 32,
                  layers_per_block: int = 2) -> str:
    """Save a tiny SD pipeline under ``out_dir`` and return its path (load it back with ``from_pretrained(path)``).

    ``sample_size`` is the latent size; images are 2x larger (the tiny VAE downsamples once), 64 px by default.
    ``sample_size=8, layers_per_block=1`` gives 16 px images at about a tenth of the cost, for fast tests.
    """
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from .tokenizers import tiny_clip_tokenizer

    tok = tiny_clip_tokenizer()
    vocab = len(tok)
    # Seed before each module so the weights do not depend on which modules were built before it.
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=layers_per_block, sample_size=sample_size, in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32)
    torch.manual_seed(seed)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        sample_size=sample_size * 2)
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=vocab, bos_token_id=vocab - 2, eos_token_id=vocab - 1, pad_token_id=vocab - 1, hidden_size=32,
        intermediate_size=37, num_attention_heads=4, num_hidden_layers=5, layer_norm_eps=1e-5))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tok, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(out)
    return str(out)
