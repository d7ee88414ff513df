"""One definition per stage: what it reads, what keys it, what it writes, and what runs it.

A run is the stages of :data:`STAGES`, in order. Each :class:`Stage` says

* ``upstream``: the stages whose output it reads (their keys are part of its key, so a change upstream re-runs it);
* ``settings``: the config values that change its output, a function of the :class:`~synthrec.context.RunContext`;
* ``speed_only``: the fields of its config section left out of the key because they change only speed (batch
  sizes, devices, executors); every other cache keyed on the same section (the few-shot synthetic sets) uses
  :func:`section_settings` with the same list, so the two can never disagree;
* ``files``: the names of the files it writes in ``<run_dir>/<stage>/``, for every reader (reports, the demo);
* ``runner``: ``"module:function"`` (the built-in ones are in ``synthrec.runners``), called as
  ``function(ctx, folder) -> dict`` (extra fields for the stage's marker). It is imported only when the stage
  runs, so this table sits below every stage's code and every reader of stage files can import it.

A new stage is one more :class:`Stage` entry in :data:`STAGES` (and its runner); ``synthrec.api.run`` needs no
change. Stages without a key (the report) run every time and write no marker.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .._io import stable_hash
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..context import RunContext


@dataclass(frozen=True)
class Stage:
    name: str
    runner: str
    upstream: tuple[str, ...] = ()
    # None: no key, runs every time (the report); a function returning None: not configured in this run
    settings: Callable[["RunContext"], dict | None] | None = None
    speed_only: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    skip_reason: Callable[["RunContext"], ConfigError | None] = lambda ctx: None
    precious: bool = False       # output too costly to discard without --overwrite (generated images)
    keep: tuple[str, ...] = ()   # content-addressed sub-folders that survive a settings change
    always: bool = False         # cheap and needed by everything: runs even when another stage is asked for
    help: str = ""               # the help line of its own command (``synthrec <stage> CONFIG``); "" for none

    @property
    def keyed(self) -> bool:
        return self.settings is not None

    def run(self, ctx: "RunContext", folder: Path) -> Any:
        module, _, func = self.runner.partition(":")
        return getattr(importlib.import_module(module), func)(ctx, folder)

    def file(self, run_dir: str | Path, name: str) -> Path:
        return Path(run_dir) / self.name / self.files[name]


def section_settings(section, speed_only: tuple[str, ...]) -> dict:
    """A config section as JSON, less its speed-only fields (dotted names reach into sub-sections)."""
    exclude: dict[str, Any] = {}
    for dotted in speed_only:
        head, _, rest = dotted.partition(".")
        if rest:
            exclude.setdefault(head, {})[rest] = True
        else:
            exclude[head] = True
    return section.model_dump(mode="json", exclude=exclude or None)


# ------------------------------------------------------------------------------------------------------------------
# the stages

_PROMPTS_SPEED = ("le.batch_size", "le.device")
GENERATE_SPEED_ONLY = ("batch_size", "device", "executor", "num_workers", "channels_last", "compile")
_FILTER_SPEED = ("batch_size", "device")
_TRAIN_SPEED = ("device", "feature_batch_size", "cache_dir")


# Settings that cannot change a stage's output in a run stay out of its key, so runs made before they existed keep
# their keys: LE's class-word check in a run without LE, the encoder-tuning settings in a head-only run.
_LE_ONLY = ("le.require_class_word",)
_BEYOND_HEAD_ONLY = ("tune", "freeze_bn", "encoder_lr")


def _prompts(ctx: "RunContext") -> dict:
    unused = _LE_ONLY if ctx.prompts.strategy != "le" else ()
    return {"seed": ctx.cfg.seed, **section_settings(ctx.prompts, _PROMPTS_SPEED + unused)}


def _generate(ctx: "RunContext") -> dict:
    return {"seed": ctx.cfg.seed, **section_settings(ctx.cfg.generate, GENERATE_SPEED_ONLY)}


def _filter(ctx: "RunContext") -> dict:
    return {**section_settings(ctx.cfg.filter, _FILTER_SPEED), "encoder": ctx.filter_encoder_spec,
            "template": ctx.filter_template, "seed": ctx.cfg.seed}


def _train(ctx: "RunContext") -> dict:
    unused = _BEYOND_HEAD_ONLY if ctx.cfg.train.tune == "head" else ()
    return {**section_settings(ctx.cfg.train, _TRAIN_SPEED + unused), "templates": ctx.head_templates,
            "seed": ctx.cfg.seed}


def _fewshot(ctx: "RunContext") -> dict | None:
    if ctx.cfg.fewshot is None:
        return None
    return {"seed": ctx.cfg.seed, **ctx.cfg.fewshot.model_dump(mode="json")}


def _no_test_set(ctx: "RunContext") -> ConfigError | None:
    if ctx.has_test_set:
        return None
    return ConfigError("no test set is configured", "add `evaluate: {dataset: NAME}` or image_folder")


def _no_fewshot(ctx: "RunContext") -> ConfigError | None:
    if ctx.cfg.fewshot is not None:
        return None
    return ConfigError("the config has no fewshot section", "add `fewshot:` (see configs/digits_fewshot.yaml)")


def _section(name: str):
    def settings(ctx: "RunContext") -> dict | None:
        section = getattr(ctx.cfg, name)
        if section is None:
            return None
        return {"seed": ctx.cfg.seed, **section_settings(section, _SETTING_SPEED)}
    return settings


def _missing_section(name: str):
    def reason(ctx: "RunContext") -> ConfigError | None:
        if getattr(ctx.cfg, name) is not None:
            return None
        return ConfigError(f"the config has no {name} section", f"add `{name}:` (see docs/pretrain.md)")
    return reason


_SETTING_SPEED = ("num_workers", "device")
_RUNNERS = "synthrec.runners"
_SETTING = "synthrec.transfer.setting"

STAGES: tuple[Stage, ...] = (
    Stage("labels", f"{_RUNNERS}:run_labels",
          settings=lambda ctx: ctx.labels.to_json(),
          files={"labels": "labels.json"}, always=True),
    Stage("prompts", f"{_RUNNERS}:run_prompts", upstream=("labels",),
          settings=_prompts, speed_only=_PROMPTS_SPEED,
          files={"prompts": "prompts.parquet"},
          help="Write prompts.parquet for CONFIG's label space (runs the labels stage if needed)."),
    Stage("generate", f"{_RUNNERS}:run_generate", upstream=("prompts",),
          settings=_generate, speed_only=GENERATE_SPEED_ONLY,
          files={"plan": "plan.json", "manifest": "manifest", "images": "images"}, precious=True,
          help="Generate images into shards with a Parquet manifest; resumes after a crash."),
    Stage("filter", f"{_RUNNERS}:run_filter", upstream=("generate",),
          settings=_filter, speed_only=_FILTER_SPEED,
          files={"scores": "scores.parquet", "selection": "selection.parquet", "summary": "filter.json"},
          help="Score generated images with CLIP and select them (scores.parquet, selection.parquet)."),
    Stage("train", f"{_RUNNERS}:run_train", upstream=("filter", "labels"),
          settings=_train, speed_only=_TRAIN_SPEED,
          files={"head": "head.safetensors", "head_meta": "head.json", "log": "train.json",
                 "tower": "image_tower.safetensors"},
          help="Tune the classifier head on frozen features of the selected images."),
    Stage("evaluate", f"{_RUNNERS}:run_evaluate", upstream=("train",),
          settings=lambda ctx: ctx.evaluate_source, skip_reason=_no_test_set,
          files={"metrics": "metrics.json"},
          help="Evaluate the zero-shot baseline and the tuned head on the real test set."),
    Stage("fewshot", f"{_RUNNERS}:run_fewshot", upstream=("labels", "prompts", "evaluate"),
          settings=_fewshot, skip_reason=_no_fewshot, keep=("synthetic",),
          files={"results": "results.json", "report": "report.html", "synthetic": "synthetic"},
          help="Run the few-shot setting of CONFIG (k real shots, Real Guidance, mix training)."),
    # The pre-training setting (docs/pretrain.md); its commands (`synthrec pretrain|transfer CONFIG`) are in cli/.
    Stage("pretrain", f"{_SETTING}:run_pretrain_stage", upstream=("generate", "labels"),
          settings=_section("pretrain"), speed_only=_SETTING_SPEED, skip_reason=_missing_section("pretrain"),
          files={"checkpoint": "checkpoints/last.safetensors", "history": "history.json"}, precious=True),
    Stage("transfer", f"{_SETTING}:run_transfer_stage", upstream=("pretrain",),
          settings=_section("transfer"), speed_only=_SETTING_SPEED, skip_reason=_missing_section("transfer"),
          files={"results": "results.json", "table": "table.md"}),
    Stage("report", f"{_RUNNERS}:run_report",
          files={"html": "report.html", "markdown": "report.md"}),
)

_BY_NAME = {s.name: s for s in STAGES}
STAGE_NAMES: tuple[str, ...] = tuple(_BY_NAME)


def get_stage(name: str) -> Stage:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(f"unknown stage {name!r}", f"use one of {', '.join(STAGE_NAMES)}") from None


def stage_file(run_dir: str | Path, stage: str, name: str) -> Path:
    """``<run_dir>/<stage>/<file>`` for one of the files a stage's definition names."""
    return get_stage(stage).file(run_dir, name)


def stage_keys(ctx: "RunContext") -> dict[str, tuple[str, dict]]:
    """For each keyed stage the config sets up: (key, settings). A key hashes the stage's settings and the keys
    of its upstream stages."""
    out: dict[str, tuple[str, dict]] = {}
    for stage in STAGES:
        settings = stage.settings(ctx) if stage.keyed else None
        if settings is None:
            continue
        full = {"settings": settings, "upstream": {u: out[u][0] for u in stage.upstream}}
        out[stage.name] = (stable_hash(full), settings)
    return out
