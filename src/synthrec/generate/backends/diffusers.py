"""Any diffusers text-to-image pipeline as a :class:`Generator`, by hub id or local folder.

Throughput levers that cost nothing in quality are on by default: fp16 on CUDA, PyTorch SDPA attention (diffusers'
default processor on torch 2), batching, no progress bars. ``channels_last`` and ``torch.compile`` are opt-in (they
help on some GPUs and slow down others). Initial noise comes from one CPU ``torch.Generator`` per image, so an image
is the same on any device count, batch size or worker (up to floating-point differences between batch sizes).
"""
from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from ... import devices
from ...errors import ConfigError, ModelLoadError
from .base import GenerationOutput, Generator

log = logging.getLogger(__name__)

DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


def resolve_device(device: str = "auto") -> str:
    return str(devices.resolve_device(device, "generate.device"))


def resolve_dtype(dtype: str, device: str) -> str:
    """"auto" means fp16 on CUDA (the speed/quality default of every SD recipe) and fp32 elsewhere."""
    if dtype == "auto":
        return "fp16" if resolve_device(device).startswith("cuda") else "fp32"
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}", f"choose one of: auto, {', '.join(DTYPES)}")
    return dtype


def _looks_like_path(spec: str) -> bool:
    return (spec.startswith((".", "/", "~")) or os.sep in spec.replace("/", "") or spec.count("/") > 1
            or (os.altsep is not None and os.altsep in spec) or Path(spec).exists())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def dtype_kwarg(torch_dtype) -> dict[str, Any]:
    """from_pretrained's dtype argument: ``dtype`` in newer diffusers (``torch_dtype`` warns there), else the old."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return {"torch_dtype": torch_dtype}
    return {"dtype": torch_dtype}


def load_pipeline(spec: str, torch_dtype) -> Any:
    """``DiffusionPipeline.from_pretrained`` with one-line errors that name the id and the fix."""
    from diffusers import DiffusionPipeline

    if _looks_like_path(spec):
        folder = Path(spec).expanduser()
        if not folder.exists():
            raise ModelLoadError(f"generator path {spec!r} does not exist",
                                 "check the path, or give a Hugging Face hub id such as "
                                 "stable-diffusion-v1-5/stable-diffusion-v1-5")
        if not (folder / "model_index.json").is_file():
            raise ModelLoadError(f"{spec!r} is not a diffusers pipeline folder (it has no model_index.json)",
                                 "point generate.generator at a folder written by save_pretrained, or at a hub id")
        spec = str(folder)
    try:
        return DiffusionPipeline.from_pretrained(spec, **dtype_kwarg(torch_dtype))
    except Exception as exc:  # hub, validation and file errors come in many types; all mean "cannot load"
        raise _load_error(spec, exc) from None


def _load_error(spec: str, exc: Exception) -> ModelLoadError:
    from huggingface_hub import constants

    name = type(exc).__name__
    offline = constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    if name == "HFValidationError":
        return ModelLoadError(f"generator {spec!r} is neither an existing folder nor a valid hub id",
                              "check it for typos (hub ids look like owner/name)")
    if offline:
        return ModelLoadError(f"cannot load generator {spec!r}: it is not in the local Hugging Face cache and "
                              "offline mode is on (HF_HUB_OFFLINE=1)",
                              f"check the id for typos, or download it once with network access "
                              f"(`huggingface-cli download {spec}`)")
    if name in ("GatedRepoError", "RepositoryNotFoundError") or "401" in str(exc):
        return ModelLoadError(f"cannot load generator {spec!r}: the hub has no such model or it is gated/private",
                              "check the id for typos; for a gated model accept its licence on the hub and run "
                              "`huggingface-cli login`")
    return ModelLoadError(f"cannot load generator {spec!r}: {name}: {_first_line(exc)}",
                          "check the id or path for typos, your network, and `huggingface-cli login` for gated "
                          "models")


def native_size(pipe) -> tuple[int | None, int | None]:
    """The pipeline's default (height, width) in pixels, or (None, None) when it does not say."""
    denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    sample = getattr(pipe, "default_sample_size", None)
    if sample is None and denoiser is not None:
        sample = getattr(denoiser.config, "sample_size", None)
    factor = getattr(pipe, "vae_scale_factor", None)
    if sample is None or factor is None:
        return None, None
    if isinstance(sample, (list, tuple)):
        return int(sample[0]) * factor, int(sample[1]) * factor
    return int(sample) * factor, int(sample) * factor


def swap_scheduler(pipe, name: str):
    import diffusers

    cls = getattr(diffusers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin)):
        compatible = sorted(c.__name__ for c in getattr(pipe.scheduler, "compatibles", []))
        raise ConfigError(f"unknown scheduler {name!r}",
                          f"choose a diffusers scheduler class such as {', '.join(compatible) or 'DDIMScheduler'}")
    pipe.scheduler = cls.from_config(pipe.scheduler.config)


class PipelineGenerator(Generator):
    """Drives a loaded diffusers-style pipeline. Subclasses pick how to load it and how to get its img2img form."""

    backend = "pipeline"

    def __init__(self, pipe, *, generator_id: str, device: str, dtype: str, steps: int, guidance_scale: float,
                 height: int | None = None, width: int | None = None, scheduler: str | None = None,
                 channels_last: bool = False, compile: bool | str = False, negative_prompt: str | None = None,
                 adapters: Sequence[dict] = (), pipeline_kwargs: dict[str, Any] | None = None):
        import torch

        from .options import check_pipeline_kwargs, load_adapters

        if steps <= 0:
            raise ConfigError(f"steps is {steps}", "use at least one denoising step")
        self.pipe = pipe
        self.generator_id = generator_id
        self.device = device
        self.dtype = dtype
        self.steps = int(steps)
        self.guidance_scale = float(guidance_scale)
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        if scheduler:
            swap_scheduler(pipe, scheduler)
        self._params = _call_params(pipe)
        if negative_prompt and "negative_prompt" not in self._params:
            raise ConfigError(f"{type(pipe).__name__} takes no negative prompt", "remove generate.negative_prompt")
        self.negative_prompt = negative_prompt or None
        self.pipeline_kwargs = check_pipeline_kwargs(pipe, self._params, pipeline_kwargs or {})
        self.adapters = load_adapters(pipe, adapters) if adapters else []
        if (height or width) and not {"height", "width"} <= self._params:
            raise ConfigError(f"{type(pipe).__name__} makes images of a fixed size; it takes no height/width",
                              "remove generate.height and generate.width")
        nh, nw = native_size(pipe)
        self.height, self.width = height or nh, width or nw
        self._pass_size = bool(height or width)
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        if channels_last and denoiser is not None:
            denoiser.to(memory_format=torch.channels_last)
            if getattr(pipe, "vae", None) is not None:
                pipe.vae.to(memory_format=torch.channels_last)
        if compile and denoiser is not None:
            mode = compile if isinstance(compile, str) else None
            compiled = torch.compile(denoiser, mode=mode)
            setattr(pipe, "unet" if getattr(pipe, "unet", None) is not None else "transformer", compiled)
        self._i2i = None
        self.settings = self._settings(scheduler_name=type(getattr(pipe, "scheduler", None)).__name__)

    def _settings(self, scheduler_name: str) -> dict[str, Any]:
        import diffusers

        return {"backend": self.backend, "pipeline": type(self.pipe).__name__, "steps": self.steps,
                "guidance_scale": self.guidance_scale, "height": self.height, "width": self.width,
                "dtype": self.dtype, "scheduler": scheduler_name, "diffusers_version": diffusers.__version__,
                **({"negative_prompt": self.negative_prompt} if self.negative_prompt else {}),
                **({"adapters": self.adapters} if self.adapters else {}),
                **({"pipeline_kwargs": self.pipeline_kwargs} if self.pipeline_kwargs else {})}

    def replace(self, *, steps: int | None = None, guidance_scale: float | None = None) -> "PipelineGenerator":
        """The same loaded pipeline at other steps or guidance (a shallow copy: no second copy of the weights)."""
        import copy

        clone = copy.copy(self)
        if steps is not None:
            if int(steps) <= 0:
                raise ConfigError(f"steps is {steps}", "use at least one denoising step")
            clone.steps = int(steps)
        if guidance_scale is not None:
            clone.guidance_scale = float(guidance_scale)
        clone.settings = {**self.settings, "steps": clone.steps, "guidance_scale": clone.guidance_scale}
        return clone

    # -- generation ------------------------------------------------------------------------------------------------
    def _generators(self, seeds: Sequence[int]):
        import torch

        # CPU generators: the same seed gives the same initial noise on CPU, CUDA or MPS.
        return [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]

    def _kwargs(self, params: set[str], prompts: Sequence[str], seeds: Sequence[int], pass_size: bool):
        kw: dict[str, Any] = {"prompt": list(prompts), "generator": self._generators(seeds), "output_type": "pil"}
        if "num_inference_steps" in params:
            kw["num_inference_steps"] = self.steps
        if "guidance_scale" in params:
            kw["guidance_scale"] = self.guidance_scale
        if pass_size and {"height", "width"} <= params:
            kw["height"], kw["width"] = self.height, self.width
        if self.negative_prompt and "negative_prompt" in params:
            kw["negative_prompt"] = [self.negative_prompt] * len(prompts)
        kw.update({k: v for k, v in self.pipeline_kwargs.items() if k in params})
        return kw

    def check_inputs(self, prompts: Sequence[str], seeds: Sequence[int]) -> None:
        if len(prompts) != len(seeds):
            raise ValueError(f"got {len(prompts)} prompts and {len(seeds)} seeds; give one seed per prompt")
        if not prompts:
            raise ValueError("no prompts given")

    def text_to_image(self, prompts: Sequence[str], seeds: Sequence[int]) -> GenerationOutput:
        self.check_inputs(prompts, seeds)
        out = self.pipe(**self._kwargs(self._params, prompts, seeds, self._pass_size))
        return GenerationOutput(images=list(out.images), seeds=[int(s) for s in seeds], meta=_meta(out))

    def _img2img_pipe(self):
        raise NotImplementedError

    @property
    def supports_img2img(self) -> bool:  # type: ignore[override]
        try:
            self._img2img_pipe()
            return True
        except ConfigError:
            return False

    def _prepare_init(self, images: Sequence[Image.Image]) -> list[Image.Image]:
        out = []
        for im in images:
            im = im.convert("RGB")
            if self.height and self.width and im.size != (self.width, self.height):
                im = im.resize((self.width, self.height), Image.Resampling.BICUBIC)
            out.append(im)
        return out

    def image_to_image(self, prompts: Sequence[str], seeds: Sequence[int], images: Sequence[Image.Image],
                       strength: float) -> GenerationOutput:
        self.check_inputs(prompts, seeds)
        if len(images) != len(prompts):
            raise ValueError(f"got {len(images)} init images for {len(prompts)} prompts; give one per prompt")
        if not 0.0 < float(strength) <= 1.0:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        if int(self.steps * float(strength)) < 1:
            raise ConfigError(f"strength {strength} of {self.steps} steps leaves no denoising step",
                              f"raise generate.steps to at least {int(1 / float(strength)) + 1}")
        pipe = self._img2img_pipe()
        params = _call_params(pipe)
        kw = self._kwargs(params, prompts, seeds, pass_size=self._pass_size)
        kw["image"] = self._prepare_init(images)
        kw["strength"] = float(strength)
        out = pipe(**kw)
        return GenerationOutput(images=list(out.images), seeds=[int(s) for s in seeds], meta=_meta(out))


class DiffusersGenerator(PipelineGenerator):
    backend = "diffusers"

    @classmethod
    def load(cls, spec: str, *, device: str = "auto", dtype: str = "auto", generator_id: str | None = None,
             **kw) -> "DiffusersGenerator":
        import torch

        device = resolve_device(device)
        dtype = resolve_dtype(dtype, device)
        pipe = load_pipeline(spec, getattr(torch, DTYPES[dtype]))
        pipe = pipe.to(device)
        log.info("generator %s (%s) on %s, %s", spec, type(pipe).__name__, device, dtype)
        return cls(pipe, generator_id=generator_id or spec, device=device, dtype=dtype, **kw)

    def _img2img_pipe(self):
        if self._i2i is None:
            from diffusers import AutoPipelineForImage2Image

            try:
                # from_pipe shares the loaded components (and the swapped scheduler): no second copy of the weights.
                self._i2i = AutoPipelineForImage2Image.from_pipe(self.pipe)
            except Exception:  # diffusers raises ValueError or KeyError for a family without img2img
                raise ConfigError(f"{type(self.pipe).__name__} has no image-to-image variant in diffusers",
                                  "Real Guidance needs an img2img-capable pipeline, e.g. Stable Diffusion 1.x/2.x/XL "
                                  "or FLUX") from None
            self._i2i.set_progress_bar_config(disable=True)
        return self._i2i


def _call_params(pipe) -> set[str]:
    return set(inspect.signature(pipe.__call__).parameters)


def _meta(out) -> dict[str, Any]:
    nsfw = getattr(out, "nsfw_content_detected", None)
    return {"nsfw_content_detected": list(nsfw)} if nsfw is not None else {}
