"""Read the shipped class-name tables (``classnames/*.tsv``) and CLIP's prompt ensembles.

Each table pairs the dataset's own class id (a folder name, a wnid, a meta-file entry) with the class name used in
prompts, in the dataset's label order. Loaders compare the ids with what the files on disk say, so a name can never
silently drift onto another label. The header of each table says where its facts come from.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources


def _read(filename: str) -> str:
    return resources.files("synthrec.datasets").joinpath("classnames", filename).read_text(encoding="utf-8")


@cache
def table(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(keys, names)`` of ``classnames/<name>.tsv``."""
    keys, names = [], []
    for line in _read(f"{name}.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, label = line.split("\t")
        keys.append(key)
        names.append(label)
    return tuple(keys), tuple(names)


@cache
def id_list(name: str) -> tuple[str, ...]:
    """The non-comment lines of ``classnames/<name>.txt``."""
    return tuple(ln.strip() for ln in _read(f"{name}.txt").splitlines() if ln.strip() and not ln.startswith("#"))


@cache
def _templates() -> dict[str, tuple[str, ...]]:
    data = json.loads(_read("clip_templates.json"))
    return {k: tuple(v) for k, v in data.items() if not k.startswith("_")}


def clip_templates(key: str) -> tuple[str, ...]:
    return _templates()[key]
