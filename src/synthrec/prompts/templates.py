"""Named prompt template sets: CLIP's published ones, the paper's, and any a dataset or user registers.

A template is a string with a ``{c}`` slot for the class name. The same sets serve two stages: the ``templates``
prompt strategy (one prompt per template and class) and the zero-shot text head (an ensemble over a set).
"""
from __future__ import annotations

from typing import Iterable, Sequence

from .._registry import Registry
from ..errors import ConfigError
from ..labels import DEFAULT_TEMPLATE, LabelSpace, fill_template
from . import _template_data as data

TEMPLATE_SETS: Registry[tuple[str, ...]] = Registry("template set")


def register_template_set(name: str, templates: Iterable[str]) -> tuple[str, ...]:
    """Add a named set; every template needs one ``{c}`` slot. A name can be registered once."""
    templates = tuple(templates)
    if not templates:
        raise ConfigError(f"template set {name!r} is empty", "give at least one template")
    for t in templates:
        if not isinstance(t, str) or "{c}" not in t:
            raise ConfigError(f"template {t!r} of set {name!r} has no {{c}} slot for the class name",
                              'write the class position as {c}, e.g. "a photo of a {c}."')
    return TEMPLATE_SETS.add(name, templates)


def get_template_set(name: str) -> list[str]:
    """The templates of a named set (a fresh list, with ``{c}`` slots); unknown names raise ConfigError."""
    return list(TEMPLATE_SETS.get(name))


def list_template_sets(pattern: str = "*") -> list[str]:
    return TEMPLATE_SETS.list(pattern)


def _from_clip(templates: Sequence[str]) -> tuple[str, ...]:
    return tuple(t.replace("{}", "{c}") for t in templates)


register_template_set("simple", [DEFAULT_TEMPLATE])
register_template_set("imagenet80", _from_clip(data.CLIP_IMAGENET_80))
register_template_set("imagenet7", _from_clip(data.CLIP_IMAGENET_7))
register_template_set("cifar", _from_clip(data.CLIP_CIFAR_18))
for _name, _templates in data.CLIP_DATASETS.items():
    register_template_set(f"clip_{_name}", _from_clip(_templates))
for _name, _templates in data.PAPER_DATASETS.items():
    register_template_set(f"paper_{_name}", _from_clip(_templates))


def templates_strategy(labels: LabelSpace, cfg, seed: int, device: str) -> list[list[str]]:
    """One prompt per template of ``cfg.template_set`` and class, in the set's order.

    ``per_class`` does not cut the set: a template set is a fixed ensemble; pick a smaller set for fewer prompts.
    """
    if not cfg.template_set:
        raise ConfigError("prompts.strategy is 'templates' but prompts.template_set is not set",
                          f"set prompts.template_set to one of: {', '.join(list_template_sets())}")
    templates = get_template_set(cfg.template_set)
    return [[fill_template(t, name) for t in templates] for name in labels.names]
