"""Textual inversion: one learned token per class, trained on the class's real shots (DA-Fusion, ICLR 2024).

diffusers' conventions: the token is a new word of the tokenizer (``<synthrec-NAME>``), initialised from the class
name's embedding (``--initializer_token``), trained with the denoising loss while everything else stays frozen, and
saved as ``{token: vector}`` safetensors, one file per token, so plain diffusers loads it:

    pipe.load_textual_inversion("k4-....safetensors")            # the token name is inside the file
    pipe("a photo of a <synthrec-dog>")

For the glyph pipeline the vector lives in the frozen MiniLM sentence encoder's input-embedding space and the
pipeline's own ``load_textual_inversion`` takes the same file (see :mod:`synthrec.glyph.pipeline`).
"""
from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from ..errors import AdapterError, ConfigError
from ._backbone import Backbone, base_fingerprint
from ._loop import train_steps
from .files import check_adapter, write_adapter

log = logging.getLogger("synthrec")

KIND = "textual_inversion"


@dataclass(frozen=True)
class TextualInversionSettings:
    steps: int = 200
    lr: float = 5e-3
    batch_size: int = 8

    def __post_init__(self):
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError(f"textual-inversion settings {asdict(self)} have non-positive steps, batch size or lr",
                              "use positive values")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def token_for(classname: str) -> str:
    """``<synthrec-golden-retriever>``: lower case (MiniLM's tokenizer lower-cases prompts before matching added
    words), no spaces, so the token is one word in any tokenizer."""
    slug = re.sub(r"[^a-z0-9]+", "-", classname.lower()).strip("-") or "class"
    return f"<synthrec-{slug}>"


def train_token(pipe, images: Sequence[Any], prompts: Sequence[str], token: str, init_text: str, path: str | Path,
                *, settings: TextualInversionSettings, seed: int, key: str = "", desc: str = "textual inversion",
                progress: bool = False, extra_info: dict | None = None) -> Path:
    """Learn ``token``'s embedding from (image, prompt) pairs whose prompts contain ``token``; write ``path``."""
    if len(images) != len(prompts) or not images:
        raise ValueError(f"{len(images)} images for {len(prompts)} prompts; give one prompt per image, at least one")
    if any(token not in p for p in prompts):
        raise ValueError(f"every prompt must contain the token {token!r}")
    backbone = Backbone.for_pipeline(pipe)
    base = base_fingerprint(pipe)
    vector = torch.nn.Parameter(backbone.init_vector(init_text).to(backbone.device))
    learned = {token: vector}
    modules = [m for m in (backbone.unet, getattr(backbone, "text_encoder", None)) if m is not None]
    grad_before = [{n: p.requires_grad for n, p in m.named_parameters()} for m in modules]
    for m in modules:
        m.requires_grad_(False)
    try:
        latents = backbone.latents(list(images), torch.Generator().manual_seed(int(seed) + 1))
        with backbone.learned_tokens(learned):
            stats = train_steps(backbone, latents, list(prompts), [vector], steps=settings.steps, lr=settings.lr,
                                batch_size=settings.batch_size, seed=seed,
                                condition=lambda ps: backbone.condition(ps, learned), desc=desc, progress=progress)
    finally:
        for m, before in zip(modules, grad_before):
            for n, p in m.named_parameters():
                if n in before:
                    p.requires_grad_(before[n])
    info = {"kind": KIND, "base_model": base, "key": key, "token": token, "init_text": init_text,
            "settings": settings.to_json(), "seed": int(seed), "images": len(images), "prompts": sorted(set(prompts)),
            "train": stats, **(extra_info or {})}
    log.info("textual inversion %s: %d steps in %.1f s", token, settings.steps, stats["seconds"])
    return write_adapter(path, {token: vector.detach().float()}, info)


def load_tokens(pipe, paths: Sequence[str | Path]) -> list[str]:
    """Load synthrec token files into ``pipe`` with its ``load_textual_inversion`` after checking each header;
    returns the tokens. A bad file or one for another base model is one ``AdapterError``."""
    base = base_fingerprint(pipe)
    tokens = []
    for path in paths:
        info = check_adapter(path, kind=KIND, base_model=base)
        token = info.get("token")
        try:
            pipe.load_textual_inversion(str(path)) if token is None else pipe.load_textual_inversion(str(path),
                                                                                                    token=token)
        except Exception as exc:  # diffusers raises ValueError for shape or vocabulary clashes
            raise AdapterError(f"textual-inversion file {path} does not fit {type(pipe).__name__} "
                               f"({' '.join(str(exc).split())[:160]})",
                               "use the generator it was trained on, or delete it so the next run trains a new one"
                               ) from None
        tokens.append(token or _only_key(path))
    return tokens


def unload_tokens(pipe, tokens: Sequence[str]) -> None:
    if tokens:
        pipe.unload_textual_inversion(list(tokens))


def _only_key(path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return next(iter(fh.keys()))


__all__ = ["KIND", "TextualInversionSettings", "load_tokens", "token_for", "train_token",
           "unload_tokens"]
