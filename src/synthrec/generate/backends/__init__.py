"""Generator backends: a registry from spec prefix to factory, and ``create_generator``.

Specs: ``glyph`` or ``glyph:<path>`` for the offline world; ``diffusers:<id or path>`` or any bare hub id or local
folder for a diffusers pipeline (the default backend).
"""
from __future__ import annotations

from typing import Any, Callable

from ..._registry import Registry
from .base import GenerationOutput, Generator
from .options import options_from_config

BACKENDS: Registry[Callable[..., Generator]] = Registry("generator backend")
DEFAULT_BACKEND = "diffusers"


@BACKENDS.register("diffusers")
def _diffusers(path: str, *, spec: str, **kw) -> Generator:
    from .diffusers import DiffusersGenerator

    return DiffusersGenerator.load(path, generator_id=spec, **kw)


@BACKENDS.register("glyph")
def _glyph(path: str | None, *, spec: str, **kw) -> Generator:
    from .glyph import GlyphGenerator

    return GlyphGenerator.load(path or None, generator_id=spec, **kw)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"glyph:/w"`` -> ("glyph", "/w"); ``"glyph"`` -> ("glyph", None); anything else -> ("diffusers", spec)."""
    if not isinstance(spec, str) or not spec.strip():
        from ...errors import ConfigError

        raise ConfigError("the generator is empty", "give a hub id, a local pipeline folder, or `glyph`")
    name, sep, rest = spec.partition(":")
    if name in BACKENDS and name != spec:
        return name, rest or None
    if spec in BACKENDS:
        return spec, None
    return DEFAULT_BACKEND, spec


def list_generator_backends(pattern: str = "*") -> list[str]:
    return BACKENDS.list(pattern)


def create_generator(spec: str, *, device: str = "auto", dtype: str = "auto", steps: int, guidance_scale: float,
                     height: int | None = None, width: int | None = None, scheduler: str | None = None,
                     **extra: Any) -> Generator:
    """Load a generator. ``extra``: backend options such as ``channels_last=True`` or ``compile=True``."""
    backend, path = parse_spec(spec)
    if backend == DEFAULT_BACKEND and path is None:
        path = spec
    return BACKENDS.get(backend)(path, spec=spec, device=device, dtype=dtype, steps=steps,
                                 guidance_scale=guidance_scale, height=height, width=width, scheduler=scheduler,
                                 **extra)


def create_generator_from_config(cfg, **overrides: Any) -> Generator:
    """The generator a :class:`~synthrec.config.schema.GenerateConfig` describes."""
    kw = dict(device=cfg.device, dtype=cfg.dtype, steps=cfg.steps, guidance_scale=cfg.guidance_scale,
              height=cfg.height, width=cfg.width, scheduler=cfg.scheduler)
    # Speed-only options go to the backends that take them; they are opt-in, so the glyph backend never sees them.
    kw.update({k: True for k in ("channels_last", "compile") if getattr(cfg, k, False)})
    kw.update(options_from_config(cfg))
    kw.update(overrides)
    return create_generator(cfg.generator, **kw)


__all__ = ["BACKENDS", "GenerationOutput", "Generator", "create_generator", "create_generator_from_config",
           "list_generator_backends", "parse_spec"]
