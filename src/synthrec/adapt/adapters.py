"""Adapters for a set of real shots, as run artefacts: content-keyed files in a folder, trained once, reused.

    files = ensure_lora(pipe, shots, prompts, folder, settings=LoraSettings(), scope="dataset", seed=0)
    files = ensure_tokens(pipe, shots, classnames, template, folder, settings=..., seed=0)

``shots`` is ``{class_id: [PIL image, ...]}``. Each adapter's file name carries its content key (the shots' pixel
hashes, their prompts, the base model's fingerprint, the settings and the seed), so a changed shot, model or setting
makes a new file and an unchanged one is reused. Files are written whole (temp then rename) one adapter at a time:
an interrupted run keeps every finished adapter and retrains only the rest.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from .. import _io
from ..labels import safe_dirname
from ._backbone import base_fingerprint
from .files import reusable
from .lora import KIND as LORA, LoraSettings, train_lora
from .textual_inversion import KIND as TI, TextualInversionSettings, token_for, train_token

log = logging.getLogger("synthrec")

Scope = Literal["dataset", "class"]


def _shas(images: Sequence[Any]) -> list[str]:
    from ..features import image_sha256

    return [image_sha256(im) for im in images]


def adapter_key(kind: str, pipe, shots: dict[int, Sequence[Any]], prompts: dict[int, str], settings: dict,
                seed: int) -> str:
    return _io.stable_hash({"kind": kind, "base_model": base_fingerprint(pipe), "settings": settings,
                            "seed": int(seed), "shots": {str(c): _shas(shots[c]) for c in sorted(shots)},
                            "prompts": {str(c): prompts[c] for c in sorted(shots)}})


def ensure_lora(pipe, shots: dict[int, Sequence[Any]], prompts: dict[int, str], folder: str | Path, *,
                settings: LoraSettings, scope: Scope = "dataset", seed: int = 0, classnames: Sequence[str] = (),
                progress: bool = False) -> dict[int, Path]:
    """LoRA file(s) for these shots: with ``scope="dataset"`` one adapter trained on every class's shots with their
    class prompts (every class maps to it), with ``scope="class"`` one adapter per class (DataDream offers both)."""
    folder = Path(folder)
    groups = {"all": sorted(shots)} if scope == "dataset" else {c: [c] for c in sorted(shots)}
    out: dict[int, Path] = {}
    for name, classes in groups.items():
        sub = {c: shots[c] for c in classes}
        key = adapter_key(LORA, pipe, sub, prompts, settings.to_json(), seed)
        label = "all" if name == "all" else safe_dirname(_name(classnames, name), 40)
        path = folder / f"lora-{label}-{key[:16]}.safetensors"
        if reusable(path, key):
            log.info("LoRA %s is done, reusing it", path.name)
        else:
            images = [im for c in classes for im in sub[c]]
            texts = [prompts[c] for c in classes for _ in sub[c]]
            train_lora(pipe, images, texts, path, settings=settings, seed=seed, key=key, progress=progress,
                       desc=f"LoRA {label}", extra_info={"classes": [_name(classnames, c) for c in classes],
                                                         "scope": scope})
        out.update({c: path for c in classes})
    return out


def ensure_tokens(pipe, shots: dict[int, Sequence[Any]], classnames: Sequence[str], template: str | Callable[[str], str],
                  folder: str | Path, *, settings: TextualInversionSettings, seed: int = 0, progress: bool = False
                  ) -> dict[int, tuple[str, Path]]:
    """One learned token per class, ``{class_id: (token, file)}``: trained on the class's shots with ``template``
    formatted with the token in place of the class name (``"a photo of a <synthrec-dog>"``; or a function from token
    to prompt), initialised from the class name's embedding."""
    folder = Path(folder)
    out: dict[int, tuple[str, Path]] = {}
    for c in sorted(shots):
        token = token_for(classnames[c])
        prompt = template(token) if callable(template) else template.format(c=token)
        key = adapter_key(TI, pipe, {c: shots[c]}, {c: prompt}, settings.to_json(), seed)
        path = folder / f"ti-{safe_dirname(classnames[c], 40)}-{key[:16]}.safetensors"
        if reusable(path, key):
            log.info("textual inversion %s is done, reusing it", path.name)
        else:
            train_token(pipe, list(shots[c]), [prompt] * len(shots[c]), token, classnames[c], path,
                        settings=settings, seed=seed, key=key, progress=progress, desc=f"token {token}",
                        extra_info={"class": classnames[c]})
        out[c] = (token, path)
    return out


def _name(classnames: Sequence[str], c) -> str:
    return classnames[c] if isinstance(c, int) and c < len(classnames) else str(c)
