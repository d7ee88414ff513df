"""The importable entry points behind the CLI: :func:`run` (every stage, or one), :func:`run_report`,
:func:`fork_run`.

Every stage reads and writes files in the run folder (``synthrec.stages`` defines the stages and how finished ones
are reused), so a stage can be re-run, inspected or fed by hand, and a half-finished run can be reported. What a
stage derives from the config (labels, templates, encoders, the test set) comes from
:class:`~synthrec.context.RunContext`.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from . import _io, stages
from .check import check_run_dir, ensure_ready
from .config import RunConfig, load_config
from .context import RunContext
from .errors import RunFolderError
from .stages import markers

log = logging.getLogger("synthrec")


def run(cfg: RunConfig | str | Path, *, overwrite: bool = False, only: str | None = None,
        check: bool = True) -> dict[str, Any]:
    """Run the stages of ``cfg`` in order (or just ``only``), reusing every stage whose key is unchanged.

    A whole run, or the generate stage, starts with :func:`synthrec.check.ensure_ready` (unless ``check`` is
    false): every model id, dataset, folder and output path is resolved before the first image is generated, and
    all problems are reported at once.
    """
    if not isinstance(cfg, RunConfig):
        cfg = load_config(cfg)
    if only is not None:
        stages.get_stage(only)  # an unknown name fails before anything is written
    run_dir = Path(cfg.run_dir)
    check_run_dir(run_dir)
    ctx = RunContext(cfg)
    keys = stages.stage_keys(ctx)
    if check and only in (None, "generate"):
        generated = stages.is_done(run_dir, "generate", keys["generate"][0])
        ensure_ready(cfg, generation=not generated)
    from ._lock import folder_lock

    with folder_lock(run_dir):
        markers.remove_stale_temps(run_dir)  # left by a killed run; safe, the lock is ours
        # Refuse a changed generation before any stage runs, so a refused config leaves the folder as it was.
        if only is None or stages.STAGE_NAMES.index(only) >= stages.STAGE_NAMES.index("generate"):
            markers.check_precious(run_dir, "generate", *keys["generate"], overwrite=overwrite)
        return _run_stages(ctx, run_dir, keys, overwrite, only)


def _run_stages(ctx: RunContext, run_dir: Path, keys: dict, overwrite: bool, only: str | None) -> dict[str, Any]:
    cfg = ctx.cfg
    config_text = yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
    if not (run_dir / "config.yaml").is_file():  # marks the folder as a run folder from the first stage on
        _io.write_text(run_dir / "config.yaml", config_text)
    log.info("run folder: %s", run_dir.resolve())

    outputs: dict[str, Any] = {}
    for stage in stages.STAGES:
        if only is not None and outputs.get(only) is not None:
            break
        if not stage.keyed:
            # Only a config whose stages all ran describes the folder; a refused change leaves the old one.
            _io.write_text(run_dir / "config.yaml", config_text)
            if only in (None, stage.name):
                folder = stages.stage_dir(run_dir, stage.name)
                outputs[stage.name] = str(stage.run(ctx, folder))
            continue
        reason = stage.skip_reason(ctx)
        if reason is not None:
            if only == stage.name:
                raise reason
            log.info("%s: skipped (%s)", stage.name, reason.problem)
            continue
        key, settings = keys[stage.name]
        wanted = only is None or stage.name == only or stage.always
        if stage.name == "generate" and stages.is_done(run_dir, "generate", key) \
                and not _generation_complete(run_dir):
            wanted = True  # incomplete: make the missing shards again, then every later stage
        if stages.is_done(run_dir, stage.name, key):
            log.info("%s: up to date, reusing %s", stage.name, stages.stage_dir(run_dir, stage.name))
        elif not wanted:
            raise RunFolderError(f"stage {stage.name!r} is not finished for this config in {str(run_dir)!r}",
                                 f"run `synthrec {stage.name} CONFIG` first, or `synthrec run CONFIG`")
        else:
            folder = stages.prepare(run_dir, stage.name, key, settings, overwrite=overwrite,
                                    precious=stage.precious, keep=stage.keep)
            log.info("%s: running, output in %s", stage.name, folder)
            extra = stage.run(ctx, folder) or {}
            stages.mark_done(run_dir, stage.name, key, settings, **extra)
        outputs[stage.name] = str(stages.stage_dir(run_dir, stage.name))
        if stage.name == only:
            _io.write_text(run_dir / "config.yaml", config_text)
    return outputs


def _generation_complete(run_dir: Path) -> bool:
    """Quick check of reused generation against its plan; if it fails, later stages are marked not done."""
    from .generate.verify import check_generation, plan_from_folder

    folder = stages.stage_dir(run_dir, "generate")
    check = check_generation(folder, plan_from_folder(folder, stages.stage_file(run_dir, "prompts", "prompts")))
    if check.ok:
        return True
    log.warning("generate: %s is incomplete (%s); generating those shards again and rerunning the later stages",
                folder, check.summary())
    markers.forget(run_dir, *stages.STAGE_NAMES[stages.STAGE_NAMES.index("generate"):])
    return False


def run_report(target: str | Path) -> str:
    """Write ``report/report.html`` and ``report/report.md`` for a run folder (or a config's run folder)."""
    from .report import write_report

    target = Path(target)
    if target.is_file():
        target = Path(load_config(target).run_dir)
    if not target.is_dir() or not (target / "config.yaml").is_file():
        raise RunFolderError(f"{str(target)!r} is not a synthrec run folder", "pass the run_dir of a config you ran")
    return str(write_report(target))


def fork_run(src_run_dir: str | Path, dst_run_dir: str | Path, stage_names: tuple[str, ...]) -> None:
    """Start ``dst_run_dir`` from the finished ``stage_names`` of another run (hard links where possible, else copies).

    A forked stage is reused only if its key matches the new config; so trying other training settings on the same
    images costs no regeneration, and a mismatch simply re-runs the stage.
    """
    import os
    import shutil

    src, dst = Path(src_run_dir), Path(dst_run_dir)
    if dst.exists() and any(dst.iterdir()):
        raise RunFolderError(f"cannot fork into {str(dst)!r}: it is not empty", "choose a new folder")
    for name in stage_names:
        stages.get_stage(name)
        if stages.read_marker(src, name) is None:
            raise RunFolderError(f"stage {name!r} of {str(src)!r} is not finished", "run it before forking")
        # Never the locks: a hard-linked lock file would make the two run folders lock each other.
        skip = shutil.ignore_patterns(".synthrec.lock", ".workers.lock", ".*.tmp")
        try:
            shutil.copytree(stages.stage_dir(src, name), stages.stage_dir(dst, name), copy_function=os.link,
                            ignore=skip)
        except OSError:
            shutil.rmtree(stages.stage_dir(dst, name), ignore_errors=True)
            shutil.copytree(stages.stage_dir(src, name), stages.stage_dir(dst, name), ignore=skip)
    shutil.copy2(src / "config.yaml", dst / "config.yaml")
