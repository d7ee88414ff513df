"""Real Guidance (METHOD.md §3.2.1): the paper's noise level t* mapped onto any img2img pipeline's ``strength``.

The paper noises a real shot to step t* of GLIDE's 100-step respaced chain (a 1000-step cosine schedule) and
denoises from there. Another model's schedule gives the same step number a very different noise level (Stable
Diffusion's scaled_linear chain is far noisier at t=141 than GLIDE's), so what is matched is ᾱ, the fraction of the
signal's variance left: find the train timestep of the target scheduler whose ᾱ is closest to GLIDE's, and ask for
the strength that makes a diffusers img2img pipeline start there. docs/fewshot.md has the derivation and the tables.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import torch

from ..errors import ConfigError

GLIDE_TRAIN_STEPS = 1000
GLIDE_RESPACED_STEPS = 100


def glide_step(t_star: int) -> int:
    """The original-chain step of respaced step t*−1: guided_diffusion's ``space_timesteps(1000, "100")`` keeps
    steps round(i·999/99), and the authors' code noises with ``q_sample(x, t*−1)`` on that respaced chain."""
    if not 1 <= int(t_star) <= GLIDE_RESPACED_STEPS:
        raise ConfigError(f"t* = {t_star} is outside the paper's 100-step chain",
                          f"use a fewshot.t_star value between 1 and {GLIDE_RESPACED_STEPS}")
    return round((int(t_star) - 1) * (GLIDE_TRAIN_STEPS - 1) / (GLIDE_RESPACED_STEPS - 1))


def _glide_alphas_cumprod() -> torch.Tensor:
    # diffusers' squaredcos_cap_v2 is guided_diffusion's cosine schedule (betas_for_alpha_bar, max_beta 0.999).
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=GLIDE_TRAIN_STEPS, beta_schedule="squaredcos_cap_v2").alphas_cumprod


def glide_alpha_bar(t_star: int) -> float:
    """ᾱ at the paper's t* (0.9465, 0.9052, 0.7282, 0.6549, 0.5016 for t* = 15, 20, 35, 40, 50)."""
    return float(_glide_alphas_cumprod()[glide_step(t_star)])


def _scheduler_of(target: Any):
    """A diffusers scheduler from a scheduler, a pipeline (``.scheduler``), or a generator wrapping a pipeline."""
    for attr in (None, "scheduler", "pipe", "pipeline"):
        obj = target if attr is None else getattr(target, attr, None)
        if obj is not None and hasattr(obj, "alphas_cumprod"):
            return obj
        if obj is not None and attr in ("pipe", "pipeline") and hasattr(getattr(obj, "scheduler", None),
                                                                         "alphas_cumprod"):
            return obj.scheduler
    raise ConfigError(f"{type(target).__name__} has no diffusion schedule (alphas_cumprod) to match Real Guidance's "
                      f"noise level against", "use a diffusers img2img pipeline or scheduler")


def matched_timestep(t_star: int, scheduler: Any = None) -> int:
    """The train timestep of ``scheduler`` (default: GLIDE's own cosine chain) whose ᾱ is closest to GLIDE's at t*."""
    target = glide_alpha_bar(t_star)
    acp = _glide_alphas_cumprod() if scheduler is None else _scheduler_of(scheduler).alphas_cumprod
    return int(torch.argmin((acp.double() - target).abs()))


def rg_strength(t_star: int, scheduler: Any = None) -> float:
    """The img2img ``strength`` that noises to GLIDE's ᾱ at t*: (matched timestep + 1) / train timesteps.

    "+1": with as many inference steps as train steps, diffusers' img2img keeps the last ``int(strength·T)`` of the
    timesteps [T−1, …, 0], so strength (t+1)/T starts at timestep t exactly (``int`` of it is exact in floating point
    for every t < 1000). With fewer inference steps the pipeline rounds the start down to its grid: see
    :func:`start_timestep`.
    """
    sched = None if scheduler is None else _scheduler_of(scheduler)
    total = GLIDE_TRAIN_STEPS if sched is None else int(sched.config.num_train_timesteps)
    return (matched_timestep(t_star, sched) + 1) / total


def start_timestep(strength: float, scheduler: Any, num_inference_steps: int) -> int | None:
    """The timestep an img2img pipeline actually noises to for ``strength`` at ``num_inference_steps`` (as
    ``StableDiffusionImg2ImgPipeline.get_timesteps`` and the glyph pipeline compute it); None if it would not
    denoise at all."""
    sched = copy.deepcopy(_scheduler_of(scheduler))
    sched.set_timesteps(num_inference_steps)
    init = min(int(num_inference_steps * strength), num_inference_steps)
    start = max(num_inference_steps - init, 0)
    ts = sched.timesteps[start * getattr(sched, "order", 1):]
    return int(ts[0]) if len(ts) else None


def strength_table(t_stars: Sequence[int], scheduler: Any = None, num_inference_steps: int | None = None
                   ) -> list[dict]:
    """One row per t*: GLIDE's step and ᾱ, the matched timestep, its ᾱ, the strength, and (given a number of
    inference steps) where the pipeline really starts and its ᾱ."""
    sched = None if scheduler is None else _scheduler_of(scheduler)
    acp = _glide_alphas_cumprod() if sched is None else sched.alphas_cumprod
    rows = []
    for ts in t_stars:
        t = matched_timestep(ts, sched)
        row = {"t_star": int(ts), "glide_step": glide_step(ts), "glide_alpha_bar": glide_alpha_bar(ts),
               "timestep": t, "alpha_bar": float(acp[t]), "strength": rg_strength(ts, sched)}
        if num_inference_steps and sched is not None:
            st = start_timestep(row["strength"], sched, num_inference_steps)
            row.update(steps=num_inference_steps, start_timestep=st,
                       start_alpha_bar=None if st is None else float(acp[st]))
        rows.append(row)
    return rows


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` images over ``parts`` shots, as evenly as possible (the first ``total % parts`` shots get one
    more): 800 over 16 shots is 50 each, over 3 shots 267/267/266."""
    if parts < 1:
        raise ValueError("need at least one shot")
    base, extra = divmod(int(total), parts)
    return [base + (1 if j < extra else 0) for j in range(parts)]


def t_star_for(k: int, table: dict[int, int]) -> int:
    """The paper's t* for k shots; a k between table entries takes the entry of the nearest smaller k (more noise,
    the paper's direction for fewer shots)."""
    if k in table:
        return int(table[k])
    smaller = [s for s in table if s <= k]
    if not smaller:
        raise ConfigError(f"fewshot.t_star has no entry for {k} shots or fewer",
                          f"add `{k}: <t*>` to fewshot.t_star (paper: 16:15, 8:20, 4:35, 2:40, 1:50)")
    return int(table[max(smaller)])


def rg_steps(strength: float, scheduler: Any, base_steps: int, tol: float = 0.01, max_factor: int = 4
             ) -> tuple[int, int | None, float | None]:
    """The number of inference steps at which an img2img pipeline's start lands within ``tol`` of the wanted ᾱ.

    A pipeline starts img2img on its own timestep grid, rounded down (towards less noise); at 15 DDIM steps the
    glyph pipeline's grid puts t* = 15 and t* = 20 on the same timestep. A finer grid fixes that, and costs only the
    denoising steps that run, about ``strength`` × steps. So: the smallest steps in [base, max_factor × base] whose
    start ᾱ is within ``tol`` of the target (the strength's own timestep), else the closest. Returns (steps, start
    timestep, its ᾱ).
    """
    sched = _scheduler_of(scheduler)
    acp = sched.alphas_cumprod
    total = int(sched.config.num_train_timesteps)
    target = float(acp[min(max(round(strength * total) - 1, 0), total - 1)])
    best: tuple[float, int, int | None, float | None] | None = None
    # Past max_factor only while no step count so far denoises at all (tiny strengths on a coarse grid).
    last = max(int(max_factor) * int(base_steps), math.ceil(1.0 / max(float(strength), 1e-6)) + 1)
    for n in range(int(base_steps), last + 1):
        if best is not None and n > int(max_factor) * int(base_steps):
            break
        st = start_timestep(strength, sched, n)
        if st is None:
            continue
        err = abs(float(acp[st]) - target)
        if best is None or err < best[0] - 1e-12:
            best = (err, n, st, float(acp[st]))
        if err <= tol:
            break
    if best is None:
        return int(base_steps), None, None
    return best[1], best[2], best[3]
