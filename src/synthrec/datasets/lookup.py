"""Built-in datasets by name: the catalog fills the registry of ``info`` the first time a name is looked up, so
``info`` (what a dataset is) never imports the catalog (which datasets exist)."""
from __future__ import annotations

from ..errors import ConfigError
from .info import REGISTRY, SETTINGS, DatasetInfo, _Entry


def entry(name: str) -> _Entry:
    from . import catalog  # noqa: F401  (importing the catalog fills the registry)

    if name not in REGISTRY:
        # "EuroSAT", "imagenet-r": spellings users type for the registered lower-case, underscore names
        alias = name.strip().lower().replace("-", "_")
        if alias in REGISTRY:
            return REGISTRY.get(alias)
    return REGISTRY.get(name)


def get_dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of a built-in dataset; an unknown name is a ConfigError listing the valid ones."""
    return entry(name).info


def list_datasets(pattern: str = "*", setting: str | None = None) -> list[str]:
    """Names of built-in datasets matching an fnmatch ``pattern``, optionally only those of one ``setting``."""
    from . import catalog  # noqa: F401

    names = REGISTRY.list(pattern)
    if setting is None:
        return names
    wanted = setting.strip().lower().replace("_", "-").replace(" ", "-")
    if wanted not in SETTINGS:
        raise ConfigError(f"unknown setting {setting!r}", f"use one of: {', '.join(SETTINGS)}")
    return [n for n in names if wanted in REGISTRY.get(n).info.settings]
