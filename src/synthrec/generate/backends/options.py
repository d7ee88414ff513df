"""Generation options users bring from their own diffusers setups: a negative prompt, LoRA and textual-inversion
adapters (loaded with diffusers' own loaders), and extra pipeline arguments passed through unchanged."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

from ...errors import ConfigError, ModelLoadError

log = logging.getLogger(__name__)

# Arguments synthrec sets itself, each from its own config key; a pass-through must not override them silently.
OWN_ARGUMENTS = {"prompt": "the prompts stage", "negative_prompt": "generate.negative_prompt",
                 "generator": "the per-image seeds", "num_inference_steps": "generate.steps",
                 "guidance_scale": "generate.guidance_scale", "height": "generate.height", "width": "generate.width",
                 "output_type": "synthrec (it needs PIL images)", "image": "Real Guidance",
                 "strength": "Real Guidance", "num_images_per_prompt": "generate.images_per_prompt"}


def options_from_config(cfg) -> dict[str, Any]:
    """The options a GenerateConfig sets, as backend keyword arguments (only those set, so backends that take none
    of them are never offered one)."""
    out: dict[str, Any] = {}
    if getattr(cfg, "negative_prompt", None):
        out["negative_prompt"] = cfg.negative_prompt
    if getattr(cfg, "adapters", None):
        out["adapters"] = [a.model_dump(mode="json") if hasattr(a, "model_dump") else dict(a) for a in cfg.adapters]
    if getattr(cfg, "pipeline_kwargs", None):
        out["pipeline_kwargs"] = dict(cfg.pipeline_kwargs)
    return out


def check_pipeline_kwargs(pipe, params: set[str], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    for key in kwargs:
        if key in OWN_ARGUMENTS:
            raise ConfigError(f"generate.pipeline_kwargs sets {key!r}, which synthrec sets from "
                              f"{OWN_ARGUMENTS[key]}", f"remove {key!r} from pipeline_kwargs and use that instead")
        if key not in params:
            raise ConfigError(f"{type(pipe).__name__} takes no argument {key!r} (from generate.pipeline_kwargs)",
                              f"remove it, or use one of: {', '.join(sorted(params - set(OWN_ARGUMENTS)))}")
    return dict(kwargs)


def load_adapters(pipe, adapters: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Load each adapter into ``pipe``: LoRA via ``load_lora_weights`` (then ``set_adapters`` with their weights),
    textual inversion via ``load_textual_inversion``. Returns what was loaded, for the manifest's settings."""
    loras: list[tuple[str, float]] = []
    loaded = []
    for i, spec in enumerate(adapters):
        kind, source = spec.get("kind", "lora"), str(spec["path"])
        weight_name = spec.get("weight_name")
        path = Path(source).expanduser()
        if path.is_file() and weight_name is None:  # diffusers' loaders take a folder plus a file name
            source, weight_name = str(path.parent), path.name
        elif _looks_local(source) and not path.exists():
            raise ModelLoadError(f"adapter file {source!r} (generate.adapters[{i}]) does not exist",
                                 "check the path, or give a Hugging Face hub id")
        kw = {"weight_name": weight_name} if weight_name else {}
        if kind == "lora":
            name = spec.get("name") or f"adapter{i}"
            _call_loader(pipe, "load_lora_weights", i, source, adapter_name=name, **kw)
            loras.append((name, float(spec.get("weight", 1.0))))
        elif kind == "textual_inversion":
            token = spec.get("token")
            _call_loader(pipe, "load_textual_inversion", i, source, **({"token": token} if token else {}), **kw)
        else:
            raise ConfigError(f"generate.adapters[{i}] has kind {kind!r}", "use lora or textual_inversion")
        loaded.append({k: v for k, v in spec.items() if v is not None})
    if loras:
        pipe.set_adapters([n for n, _ in loras], adapter_weights=[w for _, w in loras])
    return loaded


def _looks_local(source: str) -> bool:
    return source.startswith((".", "/", "~")) or source.endswith((".safetensors", ".bin", ".pt"))


def _call_loader(pipe, method: str, index: int, source: str, **kw) -> None:
    loader = getattr(pipe, method, None)
    if loader is None:
        raise ConfigError(f"{type(pipe).__name__} cannot load generate.adapters[{index}] (it has no {method})",
                          "use a diffusers pipeline that supports it, e.g. Stable Diffusion or SDXL, or remove it")
    try:
        loader(source, **kw)
    except Exception as exc:  # diffusers and peft raise many types: missing file, wrong base model, no peft
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ModelLoadError(f"cannot load adapter {source!r} (generate.adapters[{index}]): "
                             f"{type(exc).__name__}: {first}",
                             "check that it was trained for this base model and that `peft` is installed") from None
