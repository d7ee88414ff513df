"""The training view of a text-to-image pipeline: images to latents, prompts to conditioning, the denoiser's target.

Two families sit behind it: Stable-Diffusion-like diffusers pipelines (VAE + tokenizer + text encoder + UNet) and the
glyph pipeline (pixel-space UNet conditioned on the frozen MiniLM sentence embedding). The adapters' trainers
(:mod:`.lora`, :mod:`.textual_inversion`) only talk to this interface.
"""
from __future__ import annotations

import contextlib
import hashlib
from typing import Any, Iterator, Sequence

import torch

from ..errors import ConfigError


def base_fingerprint(pipe) -> str:
    """Which base model a pipeline is: its denoiser's (and text encoder's) parameter names and shapes, plus the
    bytes of a few tensors, so two checkpoints of one architecture differ. Adapter layers are left out, so a
    pipeline with a LoRA loaded has the fingerprint of its base. Computed once per pipeline object."""
    cached = getattr(pipe, "_synthrec_base_fingerprint", None)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    for part in ("unet", "transformer", "text_encoder"):
        module = getattr(pipe, part, None)
        if not isinstance(module, torch.nn.Module):
            continue
        state = {k.replace(".base_layer", ""): v for k, v in module.state_dict().items() if "lora_" not in k}
        keys = sorted(state)
        h.update(part.encode())
        for k in keys:
            h.update(f"{k}:{tuple(state[k].shape)};".encode())
        for k in (keys[0], keys[len(keys) // 2], keys[-1]):
            h.update(state[k].detach().float().cpu().contiguous().numpy().tobytes())
    if is_glyph(pipe):
        from ..glyph.models import text as minilm

        h.update(f"text:{minilm.SOURCE}".encode())
    fp = h.hexdigest()[:32]
    try:
        pipe._synthrec_base_fingerprint = fp
    except AttributeError:  # a pipeline that refuses new attributes is fingerprinted again next time
        pass
    return fp


def is_glyph(pipe) -> bool:
    return type(pipe).__name__ == "GlyphPipeline"


class Backbone:
    """A pipeline seen by a trainer. ``for_pipeline`` picks the family."""

    def __init__(self, pipe):
        from diffusers import DDPMScheduler

        self.pipe = pipe
        self.unet = pipe.unet
        self.device = self.unet.device
        self.dtype = self.unet.dtype
        self.noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)

    @staticmethod
    def for_pipeline(pipe) -> "Backbone":
        if is_glyph(pipe):
            return GlyphBackbone(pipe)
        missing = [c for c in ("unet", "vae", "tokenizer", "text_encoder") if getattr(pipe, c, None) is None]
        if missing:
            raise ConfigError(f"{type(pipe).__name__} has no {', '.join(missing)}; the few-shot adapters train "
                              "Stable-Diffusion-like pipelines (UNet + VAE + CLIP text encoder) and the glyph one",
                              "use a Stable Diffusion 1.x/2.x checkpoint, or a strategy without adapters")
        return SDBackbone(pipe)

    def latents(self, images: Sequence[Any], generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def condition(self, prompts: Sequence[str], learned: dict[str, torch.Tensor] | None = None) -> Any:
        raise NotImplementedError

    def predict(self, noisy: torch.Tensor, t: torch.Tensor, cond: Any) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, latents: torch.Tensor, cond: Any, generator: torch.Generator) -> torch.Tensor:
        """The denoising loss diffusers' LoRA and textual-inversion examples train with: MSE against the noise (or
        the velocity, for v-prediction checkpoints) at a uniformly drawn train timestep."""
        n = latents.shape[0]
        sched = self.noise_scheduler
        noise = torch.randn(latents.shape, generator=generator).to(latents.device, latents.dtype)
        t = torch.randint(0, int(sched.config.num_train_timesteps), (n,), generator=generator).to(latents.device)
        noisy = sched.add_noise(latents, noise, t)
        target = sched.get_velocity(latents, noise, t) if sched.config.prediction_type == "v_prediction" else noise
        with self.autocast():
            pred = self.predict(noisy, t, cond)
        return torch.nn.functional.mse_loss(pred.float(), target.float())

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        # A half-precision base (fp16 on CUDA) trains its fp32 adapter weights under autocast, as diffusers' scripts do.
        if self.dtype in (torch.float16, torch.bfloat16) and self.device.type == "cuda":
            with torch.autocast("cuda", dtype=self.dtype):
                yield
        else:
            yield

    @contextlib.contextmanager
    def learned_tokens(self, learned: dict[str, torch.Tensor]) -> Iterator[None]:
        """Make the prompt encoder know ``learned``'s tokens while the block runs (training)."""
        yield


class SDBackbone(Backbone):
    def __init__(self, pipe):
        super().__init__(pipe)
        self.vae, self.tokenizer, self.text_encoder = pipe.vae, pipe.tokenizer, pipe.text_encoder
        factor = getattr(pipe, "vae_scale_factor", 8)
        self.size = int(self.unet.config.sample_size) * int(factor)
        self._token_ids: dict[str, int] = {}

    @torch.no_grad()
    def latents(self, images, generator):
        proc = self.pipe.image_processor
        x = proc.preprocess([im.convert("RGB") for im in images], height=self.size, width=self.size)
        x = x.to(self.vae.device, self.vae.dtype)
        dist = self.vae.encode(x).latent_dist
        z = dist.mean + dist.std * torch.randn(dist.mean.shape, generator=generator).to(x.device, x.dtype)
        shift = getattr(self.vae.config, "shift_factor", None) or 0.0
        return ((z - shift) * self.vae.config.scaling_factor).to(self.dtype)

    def condition(self, prompts, learned=None):
        ids = self.tokenizer(list(prompts), padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids.to(self.text_encoder.device)
        with self.autocast():
            return self.text_encoder(ids)[0]

    def predict(self, noisy, t, cond):
        return self.unet(noisy, t, encoder_hidden_states=cond).sample

    @contextlib.contextmanager
    def learned_tokens(self, learned):
        """Add the tokens to the tokenizer (diffusers' convention: new words, new embedding rows), and swap each new
        row's lookup for the trainable vector with a forward hook, so the table itself stays frozen and untouched;
        removed again with diffusers' ``unload_textual_inversion`` afterwards."""
        names = list(learned)
        clash = [n for n in names if n in self.tokenizer.get_vocab()]
        if clash:
            raise ConfigError(f"token {clash[0]!r} is already in the tokenizer's vocabulary",
                              "unload it first (pipe.unload_textual_inversion) or choose another token name")
        self.tokenizer.add_tokens(names)
        self.text_encoder.resize_token_embeddings(len(self.tokenizer))
        ids = {n: self.tokenizer.convert_tokens_to_ids(n) for n in names}
        table = self.text_encoder.get_input_embeddings()

        def swap(_module, inputs, output):
            out = output
            for n, i in ids.items():
                hit = (inputs[0] == i).unsqueeze(-1)
                out = torch.where(hit, learned[n].to(out.dtype), out)
            return out

        handle = table.register_forward_hook(swap)
        try:
            yield
        finally:
            handle.remove()
            self.pipe.unload_textual_inversion(names)

    def embedding_dim(self) -> int:
        return int(self.text_encoder.get_input_embeddings().weight.shape[1])

    def init_vector(self, text: str) -> torch.Tensor:
        """The mean input embedding of ``text``'s tokens (diffusers' ``--initializer_token``, for multi-token
        words)."""
        ids = self.tokenizer(text, add_special_tokens=False).input_ids
        table = self.text_encoder.get_input_embeddings().weight
        return table[torch.tensor(ids or [0], device=table.device)].detach().float().mean(0)


class GlyphBackbone(Backbone):
    @torch.no_grad()
    def latents(self, images, generator):
        from ..glyph.models.pipeline import _to_tensor

        return _to_tensor([im.convert("L") for im in images]).to(self.device, self.dtype)

    def condition(self, prompts, learned=None):
        from ..glyph.models import text as minilm

        if learned:
            return minilm.encode_with_tokens(prompts, learned).to(self.device, self.dtype)
        return minilm.encode(prompts).to(self.device, self.dtype)

    def predict(self, noisy, t, cond):
        return self.unet(noisy, t, encoder_hidden_states=cond[:, None], class_labels=cond).sample

    def embedding_dim(self) -> int:
        from ..glyph.models import text as minilm

        return minilm.EMBED_DIM

    def init_vector(self, text: str) -> torch.Tensor:
        from ..glyph.models import text as minilm

        tok, model = minilm._load()
        ids = tok(text, add_special_tokens=False).input_ids
        table = model.get_input_embeddings().weight
        return table[torch.tensor(ids or [0])].detach().float().mean(0)
