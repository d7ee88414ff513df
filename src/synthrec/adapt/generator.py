"""A generator with adapters loaded: ``with adapted(generator, lora=..., tokens=...) as gen:`` makes images with the
LoRA(s) and learned tokens active and takes them out again when the block ends, so the same loaded pipeline serves
the strategies without adapters before and after.

With one LoRA per class, each batch is split by prompt and every class's images are made with its own adapter
active (``set_adapters``), text-to-image and image-to-image (Real Guidance from the shots) alike.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Sequence

from ..generate.backends.base import GenerationOutput, Generator
from .lora import load_lora
from .textual_inversion import load_tokens, unload_tokens


class AdaptedGenerator(Generator):
    """Wraps a loaded generator; ``adapter_of`` maps a prompt to the LoRA adapter name its images use."""

    def __init__(self, base: Generator, adapter_of: dict[str, str], fingerprint: dict):
        self.base = base
        self.adapter_of = dict(adapter_of)
        self.fingerprint = fingerprint
        self.generator_id = base.generator_id
        self.settings = {**base.settings, "adapters": fingerprint}

    def __getattr__(self, name):  # steps, pipe, device, ... of the wrapped generator
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    @property
    def supports_img2img(self) -> bool:  # type: ignore[override]
        return self.base.supports_img2img

    def replace(self, **kw) -> "AdaptedGenerator":
        return AdaptedGenerator(self.base.replace(**kw), self.adapter_of, self.fingerprint)

    def _groups(self, prompts: Sequence[str]) -> dict[str | None, list[int]]:
        groups: dict[str | None, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(self.adapter_of.get(p), []).append(i)
        return groups

    def _run(self, prompts, seeds, call) -> GenerationOutput:
        pipe = self.base.pipe
        images: list = [None] * len(prompts)
        meta: dict = {}
        for adapter, idx in self._groups(prompts).items():
            if self.adapter_of:
                if adapter is None:
                    pipe.disable_lora()
                else:
                    pipe.enable_lora()
                    pipe.set_adapters(adapter)
            out = call(idx)
            for i, im in zip(idx, out.images):
                images[i] = im
            meta.update(out.meta)
        return GenerationOutput(images=images, seeds=[int(s) for s in seeds], meta=meta)

    def text_to_image(self, prompts, seeds):
        return self._run(prompts, seeds, lambda idx: self.base.text_to_image([prompts[i] for i in idx],
                                                                              [seeds[i] for i in idx]))

    def image_to_image(self, prompts, seeds, images, strength):
        return self._run(prompts, seeds, lambda idx: self.base.image_to_image(
            [prompts[i] for i in idx], [seeds[i] for i in idx], [images[i] for i in idx], strength))


@contextlib.contextmanager
def adapted(generator: Generator, *, lora: dict[str, Path] | None = None, tokens: Sequence[Path] = (),
            lora_of_prompt: dict[str, str] | None = None) -> Iterator[AdaptedGenerator]:
    """Load LoRA files (``{adapter name: file}``) and token files into ``generator``'s pipeline for the block.

    ``lora_of_prompt`` maps each prompt to its adapter name; with a single LoRA every prompt uses it.
    """
    from .files import read_info

    pipe = generator.pipe
    lora = dict(lora or {})
    loaded_lora, loaded_tokens = [], []
    had_lora = bool(getattr(pipe.unet, "peft_config", None))
    try:
        for name, path in lora.items():
            load_lora(pipe, path, adapter_name=name)
            loaded_lora.append(name)
        loaded_tokens = load_tokens(pipe, list(tokens))
        if len(lora) == 1 and not lora_of_prompt:
            pipe.set_adapters(next(iter(lora)))
        fingerprint = {"lora": {n: read_info(p).get("key") for n, p in sorted(lora.items())},
                       "tokens": sorted(read_info(p).get("key") for p in tokens)}
        yield AdaptedGenerator(generator, lora_of_prompt or {}, fingerprint)
    finally:
        if loaded_lora and not had_lora:
            pipe.unload_lora_weights()  # unwraps peft's layers: the pipeline is the base model again
        elif loaded_lora:
            pipe.delete_adapters(loaded_lora)
        unload_tokens(pipe, loaded_tokens)
