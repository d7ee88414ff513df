"""Check a config before the expensive work: every model id, dataset, image folder and output path.

Each check resolves a name without loading weights (a folder with the expected files, a cached or existing hub
id), so a typo in ``filter.encoder`` is found in seconds, not after hours of generation. All problems are reported
together, one line each with its fix.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .errors import ConfigError, ModelLoadError, PreflightError, SynthrecError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    where: str      # the config key, e.g. "filter.encoder"
    message: str    # "<problem>. <fix>", one line

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_config(cfg, *, generation: bool = True) -> list[Problem]:
    """Every problem the checks find in ``cfg`` (a RunConfig), in config order; empty when all is ready.
    ``generation=False`` leaves out what only generating needs (the images are already made)."""
    problems: list[Problem] = []
    for where, check in _checks(cfg, generation):
        try:
            check()
        except SynthrecError as exc:
            problems.append(Problem(where, str(exc)))
    return problems


def ensure_ready(cfg, *, generation: bool = True) -> None:
    """Raise :class:`PreflightError` listing every problem of ``cfg``; the start of ``run`` and ``generate``."""
    problems = check_config(cfg, generation=generation)
    if problems:
        raise PreflightError(problems)


# -- what is checked ---------------------------------------------------------------------------------------------

def _checks(cfg, generation: bool) -> Iterator[tuple[str, Callable[[], None]]]:
    yield "run_dir", lambda: check_run_dir(Path(cfg.run_dir))
    if cfg.train.cache_dir:
        yield "train.cache_dir", lambda: _check_writable(Path(cfg.train.cache_dir), "train.cache_dir")
    labels = cfg.labels
    if labels.dataset is not None:
        yield "labels.dataset", lambda: _dataset_info(labels.dataset)
    if labels.file is not None:
        yield "labels.file", lambda: _check_file(labels.file, "class list file")
    if labels.image_folder is not None:
        yield "labels.image_folder", lambda: _label_folder(labels.image_folder)
    gen = cfg.generate
    if generation:
        if cfg.prompts.strategy == "le":
            yield "prompts.le.model", lambda: _check_le_model(cfg.prompts.le.model)
        yield "generate.generator", lambda: check_generator(gen.generator)
        if gen.scheduler:
            yield "generate.scheduler", lambda: _check_scheduler(gen.scheduler)
        for i, adapter in enumerate(gen.adapters):
            yield f"generate.adapters[{i}]", lambda a=adapter: _check_adapter(a)
    if cfg.filter.encoder and cfg.filter.encoder != cfg.train.encoder:
        yield "filter.encoder", lambda: check_encoder(cfg.filter.encoder)
    yield "train.encoder" + ("" if cfg.filter.encoder else " (also the filter's)"), \
        lambda: check_encoder(cfg.train.encoder)
    ev = cfg.evaluate
    if ev is not None and ev.image_folder:
        yield "evaluate.image_folder", lambda: _check_folder(ev.image_folder, "test image folder")
    elif (ev is not None and ev.dataset) or labels.dataset:
        name = (ev.dataset if ev is not None and ev.dataset else labels.dataset)
        yield "evaluate.dataset", lambda: _check_dataset(name, ev.root if ev else None, ev.split if ev else None,
                                                         bool(ev and ev.download))
    fs = cfg.fewshot
    if fs is not None:
        if fs.image_folder:
            yield "fewshot.image_folder", lambda: _check_folder(fs.image_folder, "few-shot image folder")
        elif fs.dataset or labels.dataset:
            yield "fewshot.dataset", lambda: _check_dataset(fs.dataset or labels.dataset, fs.root, fs.split,
                                                            fs.download, fewshot=True)


def check_run_dir(run_dir: Path) -> None:
    """A new folder, an empty one, or a synthrec run folder, where files can be written."""
    from ._lock import LOCK_FILE
    from .errors import RunFolderError

    if run_dir.is_symlink() and not run_dir.exists():
        raise RunFolderError(f"run_dir {str(run_dir)!r} is a symlink to {str(run_dir.readlink())!r}, which does not "
                             "exist", "create the target folder, or choose another run_dir")
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"run_dir {str(run_dir)!r} is a file", "choose a folder path for run_dir")
    # The lock file alone is what a run killed before its first write leaves: still a fresh folder.
    if run_dir.is_dir() and any(p.name != LOCK_FILE for p in run_dir.iterdir()) \
            and not (run_dir / "config.yaml").is_file():
        raise RunFolderError(f"run_dir {str(run_dir)!r} is not empty and is not a synthrec run folder",
                             "choose a new or empty folder for run_dir")
    _check_writable(run_dir, "run_dir")


def _check_writable(path: Path, what: str) -> None:
    from .errors import RunFolderError

    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise RunFolderError(f"{what} {str(path)!r} lies under the file {str(probe)!r}", "choose another path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunFolderError(f"{what} {str(path)!r} cannot be written ({str(probe)!r} is not writable)",
                             "choose a folder you can write to")


def _check_file(path: str, what: str) -> None:
    from .errors import DataError

    if not Path(path).expanduser().is_file():
        raise DataError(f"{what} {path!r} does not exist", "check the path")


def _check_folder(path: str, what: str) -> None:
    from .errors import DataError

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"{what} {path!r} does not exist", "check the path (one sub-folder per class)")
    if not any(p.is_dir() for p in folder.iterdir()):
        raise DataError(f"{what} {path!r} has no class sub-folders", "put each class's images in its own folder")


def _label_folder(path: str) -> None:
    from .labels import LabelSpace

    LabelSpace.from_image_folder(path)


def _dataset_info(name: str):
    from .datasets import get_dataset_info

    return get_dataset_info(name)


def _check_dataset(name: str, root, split, download: bool, fewshot: bool = False) -> None:
    """The dataset is known and its files are in place (or it may download them): opening it lists its files."""
    from .datasets import load_dataset

    info = _dataset_info(name)
    if download and info.downloadable:
        return
    if fewshot and split is None:
        split = info.fewshot_train_split
    load_dataset(name, root=root, split=split, download=False)


def check_generator(spec: str) -> None:
    from .generate.backends import parse_spec

    backend, path = parse_spec(spec)
    if backend not in ("glyph", "diffusers"):
        return  # a backend registered by a plugin resolves its own specs when it loads
    if backend == "glyph":
        if path is not None and not Path(path).expanduser().exists():
            raise ModelLoadError(f"glyph pipeline path {path!r} does not exist",
                                 "give the folder written by the glyph trainer, or plain `glyph` for the shipped one")
        return
    target = path or spec
    folder = Path(target).expanduser()
    if folder.is_dir() or target.startswith((".", "/", "~")):
        if not folder.is_dir():
            raise ModelLoadError(f"generator path {target!r} does not exist",
                                 "check the path, or give a hub id such as stable-diffusion-v1-5/stable-diffusion-v1-5")
        if not (folder / "model_index.json").is_file():
            raise ModelLoadError(f"{target!r} is not a diffusers pipeline folder (it has no model_index.json)",
                                 "point generate.generator at a folder written by save_pretrained, or at a hub id")
        return
    from ._hub import check_hub_model

    check_hub_model(target, ["model_index.json"], "generator")


def _check_le_model(spec: str) -> None:
    from .prompts.language_enhancement import resolve_model_path

    _check_transformers_model(resolve_model_path(spec), "language model")


def _check_transformers_model(spec: str, what: str) -> None:
    folder = Path(spec).expanduser()
    if folder.is_dir() or spec.startswith((".", "/", "~")):
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{what} folder {spec!r} " + ("has no config.json" if folder.is_dir()
                                                                 else "does not exist"),
                                 "give a folder written by save_pretrained, or a hub id")
        return
    from ._hub import check_hub_model

    check_hub_model(spec, ["config.json"], what)


def _check_scheduler(name: str) -> None:
    import diffusers

    cls = getattr(diffusers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin)):
        raise ConfigError(f"unknown scheduler {name!r}",
                          "use a diffusers scheduler class name such as DPMSolverMultistepScheduler or DDIMScheduler")


def _check_adapter(adapter) -> None:
    path = Path(adapter.path).expanduser()
    if path.exists():
        return
    if adapter.path.startswith((".", "/", "~")) or adapter.path.endswith((".safetensors", ".bin", ".pt")):
        raise ModelLoadError(f"adapter file {adapter.path!r} does not exist", "check the path, or give a hub id")
    from ._hub import check_hub_model

    check_hub_model(adapter.path, [adapter.weight_name or "pytorch_lora_weights.safetensors",
                                   "learned_embeds.safetensors"], "adapter")


def check_encoder(spec: str) -> None:
    from .features.encoders import check_encoder_spec

    check_encoder_spec(spec)
