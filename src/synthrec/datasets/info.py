"""What synthrec knows about a dataset without touching its files, and the registry of datasets by name."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from .._registry import Registry
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..labels import LabelSpace
    from .base import LabeledImageDataset

SETTINGS = ("zero-shot", "few-shot")
TASKS = {"o": "object", "s": "scene", "f": "fine-grained", "t": "texture", "si": "satellite image",
         "r": "robustness"}
SOURCES = ("torchvision", "imagefolder", "builtin")


@dataclass(frozen=True)
class DatasetInfo:
    """One benchmark entry: its label space, prompts, splits and where its files go.

    ``classnames`` are in the dataset's own label order and ``class_keys`` are the dataset's own ids for the same
    classes (folder names, wnids, meta-file entries); loaders check the keys against the files on disk.
    ``simple_templates`` are the paper's simple prompt(s); ``clip_templates`` CLIP's prompt ensemble.
    ``head_templates`` build the zero-shot head (default: the simple prompts; ImageNet: the ensemble the paper's
    baseline implies). ``le_prefix`` goes before each Language Enhancement sentence (the paper's "a photo of a";
    EuroSAT's domain "a centered satellite photo of", as the authors' code has it).
    ``downloadable`` says whether ``download=True`` can fetch the images; files it cannot fetch (such as CoOp's
    split files) are in ``extra_files``, and ``layout`` says where everything goes.
    """

    name: str
    title: str
    classnames: tuple[str, ...] = field(repr=False)  # reprs stay readable for 1,000-class datasets
    simple_templates: tuple[str, ...]
    clip_templates: tuple[str, ...] = field(repr=False)
    domain: str
    task: str
    settings: frozenset[str]
    test_split: str
    fewshot_train_split: str | None
    source: str
    downloadable: bool
    layout: str
    splits: tuple[str, ...] = ()
    class_keys: tuple[str, ...] = field(default=(), repr=False)
    extra_files: tuple[str, ...] = ()
    split_sizes: Mapping[str, int] = field(default_factory=dict)
    paper: Mapping[str, float] = field(default_factory=dict)
    notes: str = ""
    head_templates: tuple[str, ...] = field(default=(), repr=False)
    le_prefix: str = "a photo of a"

    def __post_init__(self):
        object.__setattr__(self, "settings", frozenset(self.settings))
        object.__setattr__(self, "split_sizes", MappingProxyType(dict(self.split_sizes)))
        object.__setattr__(self, "paper", MappingProxyType(dict(self.paper)))
        if not self.class_keys:
            object.__setattr__(self, "class_keys", self.classnames)
        if len(self.class_keys) != len(self.classnames):
            raise ValueError(f"{self.name}: {len(self.class_keys)} class keys for {len(self.classnames)} names")
        if not self.splits:
            object.__setattr__(self, "splits", (self.test_split,))
        if not self.head_templates:
            object.__setattr__(self, "head_templates", self.simple_templates)
        for split in (self.test_split, self.fewshot_train_split):
            if split is not None and split not in self.splits:
                raise ValueError(f"{self.name}: split {split!r} is not one of {self.splits}")
        if "few-shot" in self.settings and self.fewshot_train_split is None:
            raise ValueError(f"{self.name}: a few-shot entry needs fewshot_train_split")
        if not set(self.settings) <= set(SETTINGS) or self.task not in TASKS or self.source not in SOURCES:
            raise ValueError(f"{self.name}: bad settings {set(self.settings)}, task {self.task!r} or "
                             f"source {self.source!r}")
        for t in self.simple_templates + self.clip_templates + self.head_templates:
            if t.count("{}") != 1:
                raise ValueError(f"{self.name}: template {t!r} must contain '{{}}' exactly once")

    def __hash__(self) -> int:
        return hash((self.name, self.classnames))

    @property
    def num_classes(self) -> int:
        return len(self.classnames)

    def prompts(self, which: str = "simple") -> list[list[str]]:
        """Per class, its prompts from the ``"simple"`` or ``"clip"`` templates."""
        if which not in ("simple", "clip"):
            raise ConfigError(f"unknown template set {which!r}", "use 'simple' or 'clip'")
        templates = self.simple_templates if which == "simple" else self.clip_templates
        return [[t.format(c) for t in templates] for c in self.classnames]

    def label_space(self) -> LabelSpace:
        from ..labels import LabelSpace

        return LabelSpace.from_names(self.classnames, domain=self.domain, source=f"dataset:{self.name}")


# loader(info, root or None, split, download, skip_corrupt)
Loader = Callable[..., "LabeledImageDataset"]


@dataclass(frozen=True)
class _Entry:
    info: DatasetInfo
    loader: Loader


REGISTRY: Registry[_Entry] = Registry("dataset")


def register(info: DatasetInfo, loader: Loader) -> DatasetInfo:
    REGISTRY.add(info.name, _Entry(info, loader))
    return info
