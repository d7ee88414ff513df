"""The importable entry points behind the CLI: one function per stage, and :func:`run` for all of them.

Every stage reads and writes files in the run folder (see ``_stages.py`` for how finished stages are reused), so a
stage can be re-run, inspected or fed by hand, and a half-finished run can be reported.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import yaml

from . import _io, _stages
from .config import RunConfig, load_config
from .errors import ConfigError, DataError, RunFolderError
from .labels import LabelSpace

log = logging.getLogger("synthrec")


# ----------------------------------------------------------------------------------------------------------------
# labels, and the settings that key each stage

def resolve_labels(cfg: RunConfig) -> LabelSpace:
    lc = cfg.labels
    if lc.dataset is not None:
        from .datasets import get_dataset_info

        info = get_dataset_info(lc.dataset)
        # info.domain is a tag ("satellite photo"), not a prompt prefix: the dataset's prompts come in through
        # prompts_config() and head_templates() instead.
        return LabelSpace.from_names(info.classnames, domain=lc.domain, source=f"dataset:{lc.dataset}")
    if lc.names is not None:
        return LabelSpace.from_names(lc.names, domain=lc.domain)
    if lc.file is not None:
        return LabelSpace.from_file(lc.file, domain=lc.domain)
    return LabelSpace.from_image_folder(lc.image_folder, domain=lc.domain)


def prompts_config(cfg: RunConfig):
    """The prompts section the run generates from: the one place that decides a run's generation prompt.

    A dataset run without its own template gets the dataset's simple prompt ("a centered satellite photo of {c}."
    for EuroSAT); an LE run gets its sentence prefix resolved: ``prompts.prefix``, else the label space's domain
    words, else the dataset registry's ``le_prefix``, else the paper's "a photo of a".
    """
    from .prompts.language_enhancement import le_prefix

    pc = cfg.prompts
    update = {}
    info = None
    if cfg.labels.dataset is not None and cfg.labels.domain is None:
        from .datasets import get_dataset_info

        info = get_dataset_info(cfg.labels.dataset)
    if "template" not in pc.model_fields_set and info is not None and info.simple_templates:
        update["template"] = info.simple_templates[0].replace("{}", "{c}")
    if pc.strategy == "le":
        update["prefix"] = le_prefix(pc.prefix if pc.prefix is not None else (info.le_prefix if info else None),
                                     cfg.labels.domain)
    return pc.model_copy(update=update) if update else pc


def head_templates(cfg: RunConfig) -> list[str]:
    """Templates of the zero-shot head: the config's, or the dataset's head templates when not set (the simple
    prompts; ImageNet: CLIP's 7-template ensemble, see the dataset's notes)."""
    if "templates" not in cfg.train.model_fields_set and cfg.labels.dataset is not None:
        from .datasets import get_dataset_info

        head = list(get_dataset_info(cfg.labels.dataset).head_templates)
        if head:
            return [t.replace("{}", "{c}") for t in head]
    return list(cfg.train.templates)


def filter_encoder_spec(cfg: RunConfig) -> str:
    return cfg.filter.encoder or cfg.train.encoder


def stage_settings(cfg: RunConfig, labels: LabelSpace) -> dict[str, tuple[str, dict]]:
    """For each stage: (key, settings). A key covers the settings that change the stage's output and the keys of
    the stages it reads; settings that only change speed (batch sizes, devices, executors) are left out."""
    out: dict[str, tuple[str, dict]] = {}

    def add(stage: str, settings: dict, *upstream: str) -> None:
        full = {"settings": settings, "upstream": {u: out[u][0] for u in upstream}}
        out[stage] = (_io.stable_hash(full), settings)

    add("labels", labels.to_json())
    pc = prompts_config(cfg)
    # A setting that cannot change the output stays out of the key, so runs made before it existed keep theirs.
    le_unused = {"require_class_word"} if pc.strategy != "le" else set()
    add("prompts", {"seed": cfg.seed, **pc.model_dump(
        mode="json", exclude={"le": {"batch_size", "device", *le_unused}})}, "labels")
    add("generate", {"seed": cfg.seed, **cfg.generate.model_dump(
        mode="json", exclude={"batch_size", "device", "executor", "num_workers", "channels_last", "compile"})},
        "prompts")
    filt = cfg.filter.model_dump(mode="json", exclude={"batch_size"})
    filt.update(encoder=filter_encoder_spec(cfg), template=cfg.filter.template or head_templates(cfg)[0],
                seed=cfg.seed)
    add("filter", filt, "generate")
    head_only = {"tune", "freeze_bn", "encoder_lr"} if cfg.train.tune == "head" else set()
    train = cfg.train.model_dump(mode="json", exclude={"device", "feature_batch_size", "cache_dir", *head_only})
    train.update(templates=head_templates(cfg), seed=cfg.seed)
    add("train", train, "filter", "labels")
    add("evaluate", _evaluate_source(cfg), "train")
    if cfg.fewshot is not None:
        add("fewshot", {"seed": cfg.seed, **cfg.fewshot.model_dump(mode="json")}, "labels", "prompts", "evaluate")
    return out


def _evaluate_source(cfg: RunConfig) -> dict:
    ev = cfg.evaluate.model_dump(mode="json", exclude={"skip_corrupt"}) if cfg.evaluate else {}
    if not ev.get("dataset") and not ev.get("image_folder") and cfg.labels.dataset:
        ev["dataset"] = cfg.labels.dataset
    ev["skip_corrupt"] = bool(cfg.evaluate and cfg.evaluate.skip_corrupt)
    return ev


# ----------------------------------------------------------------------------------------------------------------
# the whole run

# Content-addressed caches inside a stage folder that stay valid when the stage's settings change.
_KEEP = {"fewshot": ("synthetic",)}


def run(cfg: RunConfig | str | Path, *, overwrite: bool = False, only: str | None = None) -> dict[str, Any]:
    """Run the stages of ``cfg`` in order (or just ``only``), reusing every stage whose key is unchanged."""
    if not isinstance(cfg, RunConfig):
        cfg = load_config(cfg)
    if only is not None and only not in _stages.STAGES:
        raise ConfigError(f"unknown stage {only!r}", f"use one of {', '.join(_stages.STAGES)}")
    run_dir = Path(cfg.run_dir)
    _check_run_dir(run_dir)
    labels = resolve_labels(cfg)
    keys = stage_settings(cfg, labels)
    config_text = yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
    if not (run_dir / "config.yaml").is_file():  # marks the folder as a run folder from the first stage on
        _io.write_text(run_dir / "config.yaml", config_text)
    log.info("run folder: %s", run_dir.resolve())

    outputs: dict[str, Any] = {}
    runners = {"labels": _run_labels, "prompts": _run_prompts, "generate": _run_generate, "filter": _run_filter,
               "train": _run_train, "evaluate": _run_evaluate, "fewshot": _run_fewshot}
    for stage in _stages.STAGES:
        if stage == "report":
            # Only a config whose stages all ran describes the folder; a refused change leaves the old one.
            _io.write_text(run_dir / "config.yaml", config_text)
            if only in (None, "report"):
                outputs["report"] = run_report(run_dir)
            break
        if stage == "fewshot" and cfg.fewshot is None:
            if only == "fewshot":
                raise ConfigError("the config has no fewshot section", "add `fewshot:` (see configs/digits_fewshot.yaml)")
            continue
        key, settings = keys[stage]
        if stage == "evaluate" and not _evaluate_source(cfg).get("dataset") and not _evaluate_source(cfg).get(
                "image_folder"):
            if only == "evaluate":
                raise ConfigError("no test set is configured", "add `evaluate: {dataset: NAME}` or image_folder")
            log.info("evaluate: no test set configured, skipping")
            continue
        wanted = only is None or stage == only or stage == "labels"
        if _stages.is_done(run_dir, stage, key):
            log.info("%s: up to date, reusing %s", stage, _stages.stage_dir(run_dir, stage))
        elif not wanted:
            raise RunFolderError(f"stage {stage!r} is not finished for this config in {str(run_dir)!r}",
                                 f"run `synthrec {stage} CONFIG` first, or `synthrec run CONFIG`")
        else:
            folder = _stages.prepare(run_dir, stage, key, settings, overwrite=overwrite,
                                     precious=(stage == "generate"), keep=_KEEP.get(stage, ()))
            log.info("%s: running, output in %s", stage, folder)
            extra = runners[stage](cfg, labels, folder) or {}
            _stages.mark_done(run_dir, stage, key, settings, **extra)
        outputs[stage] = str(_stages.stage_dir(run_dir, stage))
        if stage == only:
            _io.write_text(run_dir / "config.yaml", config_text)
            break
    return outputs


def _check_run_dir(run_dir: Path) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"run_dir {str(run_dir)!r} is a file", "choose a folder path for run_dir")
    if run_dir.is_dir() and any(run_dir.iterdir()) and not (run_dir / "config.yaml").is_file():
        raise RunFolderError(f"run_dir {str(run_dir)!r} is not empty and is not a synthrec run folder",
                             "choose a new or empty folder for run_dir")


# ----------------------------------------------------------------------------------------------------------------
# stages

def _run_labels(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    labels.save(folder / "labels.json")
    return {"classes": len(labels)}


def _run_prompts(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    from .prompts import build_prompts, write_prompts

    table = build_prompts(labels, prompts_config(cfg), seed=cfg.seed, device=cfg.prompts.le.device)
    write_prompts(folder / "prompts.parquet", table)
    return {"prompts": table.num_rows}


def _run_generate(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    from .generate import generate
    from .prompts import read_prompts

    prompts = read_prompts(_stages.stage_dir(cfg.run_dir, "prompts") / "prompts.parquet")
    result = generate(prompts, cfg.generate, folder, run_seed=cfg.seed, labels=labels)
    return {"images": getattr(result, "num_images", None)}


def _run_filter(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    from ._generated import generated_items
    from .filter import run_filter

    items = generated_items(_stages.stage_dir(cfg.run_dir, "generate"))
    if not items:
        raise DataError("the generate stage produced no images", "check generate.images_per_prompt and the prompts")
    template = cfg.filter.template or head_templates(cfg)[0]
    result = run_filter(items, labels.names, cfg.filter, folder, seed=cfg.seed,
                        encoder=get_encoder(filter_encoder_spec(cfg), cfg.train.device, cfg.filter.precision),
                        cache_dir=feature_cache_dir(cfg), templates=[template])
    return {"kept": len(result.kept), "images": len(items)}


def _run_train(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    from ._generated import generated_items
    from .features import encode_with_cache
    from .filter.items import cache_items
    from .train import train_head, zero_shot_weights

    selection = _io.read_parquet(_stages.stage_dir(cfg.run_dir, "filter") / "selection.parquet")
    if selection.num_rows == 0:
        raise DataError("the filter kept no images, so there is nothing to train on",
                        "lower filter.threshold, set filter.enabled: false, or generate more images")
    manifest = _manifest_rows(cfg, selection.column("image_id"))
    items = generated_items(_stages.stage_dir(cfg.run_dir, "generate"), manifest)
    encoder = get_encoder(cfg.train.encoder, cfg.train.device, cfg.train.precision)
    templates = head_templates(cfg)
    init = zero_shot_weights(encoder, labels.names, templates)
    meta = {"classnames": list(labels.names), "templates": templates, "encoder_id": encoder.encoder_id,
            "encoder_fingerprint": encoder.fingerprint}
    class_ids = [it.class_id for it in items]
    if cfg.train.tune != "head":
        from .train import pixels_from_loaders, save_tuned, train_tuned

        # The head reads the tuned encoder's features, whose fingerprint is the saved tower's: keep the base's apart.
        meta["base_encoder_fingerprint"] = meta.pop("encoder_fingerprint")
        result = train_tuned(encoder, pixels_from_loaders(encoder, [it.load for it in items]), class_ids, init,
                             cfg.train, seed=cfg.seed, head_meta={**meta, "tune": cfg.train.tune})
        save_tuned(result, folder)
        return {"images": len(items)}
    features = encode_with_cache(encoder, cache_items(items), feature_cache_dir(cfg),
                                 batch_size=cfg.train.feature_batch_size, desc="train: encoding images")
    result = train_head(features, class_ids, init, cfg.train, seed=cfg.seed, head_meta=meta)
    result.save(folder)
    return {"images": len(items)}


def _manifest_rows(cfg: RunConfig, image_ids):
    import pyarrow.compute as pc

    from .generate import read_manifest

    table = read_manifest(_stages.stage_dir(cfg.run_dir, "generate"))
    return table.filter(pc.is_in(table.column("image_id"), value_set=image_ids))


def _run_evaluate(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    from .evaluate import evaluate_heads
    from .train import ClassifierHead, zero_shot_head

    from .train import tuned_encoder

    dataset = load_test_set(cfg, labels)
    encoder = get_encoder(cfg.train.encoder, cfg.train.device, cfg.train.precision)
    train_dir = _stages.stage_dir(cfg.run_dir, "train")
    baseline = {"baseline": zero_shot_head(encoder, labels.names, head_templates(cfg))}
    tuned = {"tuned": ClassifierHead.load(train_dir)}
    tuned_enc = tuned_encoder(encoder, train_dir)  # the encoder itself unless train.tune went beyond the head
    if tuned_enc is encoder:
        metrics = evaluate_heads(encoder, {**baseline, **tuned}, dataset, labels.names, feature_cache_dir(cfg),
                                 cfg=cfg.evaluate)
    else:
        metrics = evaluate_heads(encoder, baseline, dataset, labels.names, feature_cache_dir(cfg), cfg=cfg.evaluate)
        tuned_metrics = evaluate_heads(tuned_enc, tuned, dataset, labels.names, feature_cache_dir(cfg),
                                       cfg=cfg.evaluate)
        metrics["heads"].update(tuned_metrics["heads"])
    src = _evaluate_source(cfg)
    metrics["test_set"] = src.get("image_folder") or f"{src['dataset']}:{getattr(dataset, 'split', '') or 'test'}"
    _io.write_json(folder / "metrics.json", metrics)
    return {name: h["top1"] for name, h in metrics["heads"].items()}


def _run_fewshot(cfg: RunConfig, labels: LabelSpace, folder: Path) -> dict:
    from .fewshot import run_fewshot

    return run_fewshot(cfg, Path(cfg.run_dir)) or {}


def load_test_set(cfg: RunConfig, labels: LabelSpace):
    from .datasets import load_dataset, load_image_folder

    src = _evaluate_source(cfg)
    if src.get("image_folder"):
        ds = load_image_folder(src["image_folder"], skip_corrupt=src["skip_corrupt"])
    else:
        ds = load_dataset(src["dataset"], root=src.get("root"), split=src.get("split"), download=src["download"],
                          skip_corrupt=src["skip_corrupt"])
    names = list(getattr(ds, "classnames", []))
    if len(names) != len(labels):
        raise DataError(f"the test set has {len(names)} classes but the label space has {len(labels)}",
                        "evaluate on a test set with the same classes, in the same order")
    return ds


def feature_cache_dir(cfg: RunConfig) -> Path:
    return Path(cfg.train.cache_dir) if cfg.train.cache_dir else Path(cfg.run_dir) / "features"


@functools.lru_cache(maxsize=4)
def get_encoder(spec: str, device: str = "auto", precision: str = "auto"):
    from .features.encoders import create_encoder

    return create_encoder(spec, device=device, precision=precision)


def run_report(target: str | Path) -> str:
    """Write ``report/report.html`` and ``report/report.md`` for a run folder (or a config's run folder)."""
    from .report import write_report

    target = Path(target)
    if target.is_file():
        target = Path(load_config(target).run_dir)
    if not target.is_dir() or not (target / "config.yaml").is_file():
        raise RunFolderError(f"{str(target)!r} is not a synthrec run folder", "pass the run_dir of a config you ran")
    return str(write_report(target))


def fork_run(src_run_dir: str | Path, dst_run_dir: str | Path, stages: tuple[str, ...]) -> None:
    """Start ``dst_run_dir`` from the finished ``stages`` of another run (hard links where possible, else copies).

    A forked stage is reused only if its key matches the new config; so trying other training settings on the same
    images costs no regeneration, and a mismatch simply re-runs the stage.
    """
    import os
    import shutil

    src, dst = Path(src_run_dir), Path(dst_run_dir)
    if dst.exists() and any(dst.iterdir()):
        raise RunFolderError(f"cannot fork into {str(dst)!r}: it is not empty", "choose a new folder")
    for stage in stages:
        if _stages.read_marker(src, stage) is None:
            raise RunFolderError(f"stage {stage!r} of {str(src)!r} is not finished", "run it before forking")
        try:
            shutil.copytree(_stages.stage_dir(src, stage), _stages.stage_dir(dst, stage), copy_function=os.link)
        except OSError:
            shutil.rmtree(_stages.stage_dir(dst, stage), ignore_errors=True)
            shutil.copytree(_stages.stage_dir(src, stage), _stages.stage_dir(dst, stage))
    shutil.copy2(src / "config.yaml", dst / "config.yaml")
