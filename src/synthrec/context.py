"""The run context: what every stage derives from a config, derived in one place.

A :class:`RunContext` answers, for one :class:`~synthrec.config.RunConfig`: the label space, the prompts section
the run actually uses (a dataset's own prompt when none is set), the head's templates, the encoders (loaded once
per process), the feature cache folder and the real test set. The stages (``synthrec.stages``) and the few-shot
setting read these answers instead of re-deriving them; this module sits below both and imports neither.
"""
from __future__ import annotations

import functools
from pathlib import Path

from .config import RunConfig
from .errors import DataError
from .labels import LabelSpace


class RunContext:
    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.run_dir = Path(cfg.run_dir)

    @functools.cached_property
    def labels(self) -> LabelSpace:
        return resolve_labels(self.cfg)

    @property
    def prompts(self):
        return prompts_config(self.cfg)

    @functools.cached_property
    def head_templates(self) -> list[str]:
        return head_templates(self.cfg)

    @property
    def filter_template(self) -> str:
        return self.cfg.filter.template or self.head_templates[0]

    @property
    def filter_encoder_spec(self) -> str:
        return self.cfg.filter.encoder or self.cfg.train.encoder

    @property
    def filter_device(self) -> str:
        return self.cfg.filter.device or self.cfg.train.device

    @property
    def feature_cache_dir(self) -> Path:
        return Path(self.cfg.train.cache_dir) if self.cfg.train.cache_dir else self.run_dir / "features"

    def train_encoder(self):
        return get_encoder(self.cfg.train.encoder, self.cfg.train.device, self.cfg.train.precision)

    def filter_encoder(self):
        return get_encoder(self.filter_encoder_spec, self.filter_device, self.cfg.filter.precision)

    @functools.cached_property
    def evaluate_source(self) -> dict:
        """The test set's settings; a dataset label space is its own test set unless another is named."""
        cfg = self.cfg
        ev = cfg.evaluate.model_dump(mode="json", exclude={"skip_corrupt"}) if cfg.evaluate else {}
        if not ev.get("dataset") and not ev.get("image_folder") and cfg.labels.dataset:
            ev["dataset"] = cfg.labels.dataset
        ev["skip_corrupt"] = bool(cfg.evaluate and cfg.evaluate.skip_corrupt)
        return ev

    @property
    def has_test_set(self) -> bool:
        return bool(self.evaluate_source.get("dataset") or self.evaluate_source.get("image_folder"))

    def test_set(self):
        """The real test set, checked against the label space."""
        from .datasets import load_dataset, load_image_folder

        src = self.evaluate_source
        if src.get("image_folder"):
            ds = load_image_folder(src["image_folder"], skip_corrupt=src["skip_corrupt"])
        else:
            ds = load_dataset(src["dataset"], root=src.get("root"), split=src.get("split"),
                              download=src["download"], skip_corrupt=src["skip_corrupt"])
        names = list(getattr(ds, "classnames", []))
        if len(names) != len(self.labels):
            raise DataError(f"the test set has {len(names)} classes but the label space has {len(self.labels)}",
                            "evaluate on a test set with the same classes, in the same order")
        return ds

    def test_set_name(self, dataset) -> str:
        src = self.evaluate_source
        return src.get("image_folder") or f"{src['dataset']}:{getattr(dataset, 'split', '') or 'test'}"


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


def _dataset_info(cfg: RunConfig):
    from .datasets import get_dataset_info

    return get_dataset_info(cfg.labels.dataset)


def prompts_config(cfg: RunConfig, strategy: str | None = None):
    """The prompts section the run generates from: the one place that decides a run's generation prompt, read by
    the zero-shot prompts stage and by few-shot B and RG alike. ``strategy`` asks for another strategy's prompts
    with the same resolution (few-shot B's LE sentences in a run whose own prompts are basic).

    A dataset run without its own template gets the dataset's simple prompt ("a centered satellite photo of {c}."
    for EuroSAT); an LE run gets its sentence prefix resolved: ``prompts.prefix``, else the label space's domain
    words, else the dataset registry's ``le_prefix``, else the paper's "a photo of a".
    """
    from .prompts.language_enhancement import le_prefix

    pc = cfg.prompts
    info = _dataset_info(cfg) if cfg.labels.dataset is not None and cfg.labels.domain is None else None
    update = {}
    if strategy is not None and strategy != pc.strategy:
        update["strategy"] = strategy
        pc = pc.model_copy(update=update)
    if "template" not in pc.model_fields_set and info is not None and info.simple_templates:
        update["template"] = info.simple_templates[0].replace("{}", "{c}")
    if pc.strategy == "le":
        dataset_prefix = info.le_prefix if info is not None else None
        update["prefix"] = le_prefix(pc.prefix if pc.prefix is not None else dataset_prefix, cfg.labels.domain)
    return pc.model_copy(update=update) if update else pc


def head_templates(cfg: RunConfig) -> list[str]:
    """Templates of the zero-shot head: the config's, or the dataset's head templates when not set (its simple
    prompts; ImageNet: CLIP's 7-template ensemble, see the dataset's notes)."""
    if "templates" not in cfg.train.model_fields_set and cfg.labels.dataset is not None:
        head = list(_dataset_info(cfg).head_templates)
        if head:
            return [t.replace("{}", "{c}") for t in head]
    return list(cfg.train.templates)


@functools.lru_cache(maxsize=4)
def get_encoder(spec: str, device: str = "auto", precision: str = "auto"):
    """An encoder, loaded once per process for each (spec, device, precision)."""
    from .features.encoders import create_encoder

    return create_encoder(spec, device=device, precision=precision)
