"""Synthetic pre-training sets: a label space and a size in, shards of generated images out.

The label space is either downstream-aware (the downstream task's own classes) or downstream-agnostic (another,
usually larger list, optionally grown by ``extra_classes`` drawn with a recorded seed). Prompts come from the
configured strategy (the paper: Language Enhancement) and there is no filter; the images come from the existing
sharded, resumable generator, in chunks: chunk ``k`` is its own generator run with its own seed, so a set made at
1x and later asked for at 4x keeps the first chunk and adds three.

Folder layout::

    <folder>/labels.json, extra_classes.json, prompts.parquet, set.json
    <folder>/chunk-000/{plan.json, images/shard-*.tar, manifest/shard-*.parquet}
"""
from __future__ import annotations

import logging
import math
import types
from pathlib import Path

from .. import _io
from ..errors import ConfigError, LabelSpaceError, RunFolderError
from ..config.schema import ExtraClassesConfig, SetConfig
from .data import ShardSet, epoch_seed, write_set_index

log = logging.getLogger(__name__)


def resolve_classnames(cfg: SetConfig) -> tuple[list[str], dict | None]:
    """The set's class names, and the record of any randomly drawn extra classes."""
    from ..context import resolve_labels
    from ..labels import LabelSpace

    if cfg.labels.names is not None:
        names = list(cfg.labels.names)  # names may differ only in case here ("A" and "a" are both glyph classes)
    else:
        names = list(resolve_labels(types.SimpleNamespace(labels=cfg.labels)).names)
    drawn = None
    if cfg.extra_classes is not None:
        pool = list(LabelSpace.from_file(cfg.extra_classes.file).names)
        drawn = draw_extra_classes(names, pool, cfg.extra_classes)
        names += drawn["names"]
    check_classnames(names)
    return names, drawn


def draw_extra_classes(names: list[str], pool: list[str], extra: ExtraClassesConfig) -> dict:
    import numpy as np

    have = set(names)
    candidates = [n for n in pool if n not in have]
    if len(candidates) < extra.count:
        raise LabelSpaceError(f"extra_classes asks for {extra.count} classes but {extra.file} has only "
                              f"{len(candidates)} not already in the label space", "lower extra_classes.count")
    picked = np.random.default_rng(extra.seed).choice(len(candidates), size=extra.count, replace=False)
    return {"file": extra.file, "count": extra.count, "seed": extra.seed,
            "names": [candidates[i] for i in sorted(picked.tolist())]}


def check_classnames(names: list[str]) -> None:
    if len(names) < 2:
        raise LabelSpaceError(f"the pre-training label space has {len(names)} class",
                              "give at least two classes (a one-class set teaches a classifier nothing)")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise LabelSpaceError(f"class {dup!r} appears twice in the pre-training label space",
                              "make every class name unique")


def case_groups(names: list[str]) -> list[list[int]]:
    """Split class ids into groups whose names are unique ignoring case (a LabelSpace's rule), keeping order."""
    groups: list[list[int]] = []
    seen: list[set[str]] = []
    for i, n in enumerate(names):
        for g, s in zip(groups, seen):
            if n.casefold() not in s:
                g.append(i)
                s.add(n.casefold())
                break
        else:
            groups.append([i])
            seen.append({n.casefold()})
    return groups


def build_set_prompts(names: list[str], cfg: SetConfig, seed: int):
    """The prompts table for every class; names that differ only in case are prompted in separate groups."""
    import pyarrow as pa

    from ..labels import LabelSpace
    from ..prompts import build_prompts

    tables = []
    for group in case_groups(names):
        labels = LabelSpace.from_names([names[i] for i in group], domain=cfg.labels.domain) if len(group) > 1 \
            else None
        if labels is None:  # a one-name group: prompt it alongside a throw-away partner, keep its own rows
            labels = LabelSpace.from_names([names[group[0]], f"{names[group[0]]} (partner)"])
        table = build_prompts(labels, cfg.prompts, seed=seed, device=cfg.prompts.le.device)
        local = table.column("class_id").to_pylist()
        keep = [k for k, c in enumerate(local) if c < len(group)]
        table = table.take(keep)
        ids = [group[c] for c in table.column("class_id").to_pylist()]
        table = _replace(table, "class_id", pa.array(ids, table.schema.field("class_id").type))
        if "class_name" in table.column_names:
            table = _replace(table, "class_name", pa.array([names[i] for i in ids], pa.string()))
        tables.append(table)
    table = pa.concat_tables(tables)
    order = sorted(range(table.num_rows), key=lambda r: table.column("class_id")[r].as_py())
    table = table.take(order)
    return _replace(table, "prompt_id", pa.array(range(table.num_rows), table.schema.field("prompt_id").type))


def _replace(table, name: str, values):
    """Replace a column by name (positions change when the prompts table gains columns)."""
    return table.set_column(table.column_names.index(name), name, values)


def set_key(cfg: SetConfig, names: list[str], seed: int) -> str:
    """What fixes the images of every chunk (not the size: sizes share chunks), including the weights of local
    models, so that retrained weights saved under the same name make a new set."""
    return _io.stable_hash({"names": names, "prompts": cfg.prompts, "generate": cfg.generate, "seed": seed,
                            "chunk_images": cfg.chunk_images, "weights": local_weights_fingerprint(cfg)})


def local_weights_fingerprint(cfg: SetConfig) -> dict[str, str | None]:
    """sha256 of the generator's and the LE model's weight files when they are local (the shipped glyph models or a
    folder); a hub id is recorded by name in the config and hashes to None here."""
    from ..generate.backends import parse_spec
    from ..generate.run import adapter_fingerprint
    from ..glyph.models.weights import LE_NAME, PIPELINE_NAME, weights_dir

    backend, path = parse_spec(cfg.generate.generator)
    generator = path if path is not None else (str(weights_dir(PIPELINE_NAME)) if backend == "glyph"
                                               else cfg.generate.generator)
    fingerprint = {"generator": adapter_fingerprint(generator)}
    if cfg.prompts.strategy == "le":
        le_model = cfg.prompts.le.model
        fingerprint["le"] = adapter_fingerprint(str(weights_dir(LE_NAME)) if le_model == "glyph" else le_model)
    return fingerprint


def build_set(cfg: SetConfig, folder: str | Path, seed: int = 0, *, overwrite: bool = False,
              progress: bool = False) -> ShardSet:
    """Make (or finish, or reuse) the set ``cfg`` asks for under ``folder``; returns its shards."""
    from ..generate import generate
    from ..prompts import read_prompts, write_prompts

    folder = Path(folder)
    if cfg.generate.format != "webdataset":
        raise ConfigError("pre-training sets are streamed from WebDataset shards",
                          "set generate.format: webdataset in the pretrain.set section")
    names, drawn = resolve_classnames(cfg)
    key = set_key(cfg, names, seed)
    key_file = folder / "set-key.json"
    if key_file.is_file() and _io.read_json(key_file).get("key") != key:
        if not overwrite:
            raise RunFolderError(f"pre-training set folder {str(folder)!r} holds a set made by other settings "
                                 "or other model weights", "use another folder, or pass --overwrite to discard it")
        import shutil

        log.warning("pretrain set: %s was made by other settings or weights; making it again", folder)

        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _io.write_json(key_file, {"key": key})
    _io.write_json(folder / "labels.json", {"classnames": names})
    if drawn is not None:
        _io.write_json(folder / "extra_classes.json", drawn)
    prompts_path = folder / "prompts.parquet"
    if not prompts_path.is_file():
        write_prompts(prompts_path, build_set_prompts(names, cfg, seed))
    prompts = read_prompts(prompts_path)
    chunk_images = cfg.chunk_images or cfg.images
    per_prompt = max(1, math.ceil(chunk_images / prompts.num_rows))
    chunks = math.ceil(cfg.images / chunk_images)
    gen_cfg = cfg.generate.model_copy(update={"images_per_prompt": per_prompt})
    shards, total = [], 0
    for k in range(chunks):
        out = folder / f"chunk-{k:03d}"
        result = generate(prompts, gen_cfg, out, run_seed=epoch_seed(seed, 7000 + k) % (2**31), progress=progress)
        shards += sorted((out / "images").glob("shard-*.tar"))
        total += result.num_images
    log.info("pretrain set: %d images of %d classes in %d shards (%d chunk(s)) at %s", total, len(names),
             len(shards), chunks, folder)
    write_set_index(folder, shards, names, total, seed=seed, chunks=chunks, images_per_prompt=per_prompt,
                    prompts=prompts.num_rows, extra_classes=drawn)
    return ShardSet(tuple(str(s) for s in shards), tuple(names), total, str(folder))
