"""The real side of the few-shot setting: the pool the shots come from, the k shots of one seed, the test set.

Real images are keyed by :func:`synthrec.features.image_sha256` (decoded pixels), the key the evaluate stage uses,
so both stages share cached features.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

import torch

from .. import _io
from ..errors import ConfigError, DataError
from .mix import Features
from .sampling import class_orders, draw_decodable, write_shots

log = logging.getLogger("synthrec")


@dataclass
class Shots:
    k: int
    seed: int
    indices: list[int]          # into the real pool
    labels: list[int]
    images: list[Any]           # decoded PIL images
    sha256: list[str]           # content keys of the decoded pixels (features.image_sha256)
    files: list[str]            # files RG reads (the original file, or a PNG written under shots/)
    feats: torch.Tensor | None = None

    @property
    def by_class(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for y, f in zip(self.labels, self.files):
            out.setdefault(int(y), []).append(f)
        return out


def load_pool(run: "FewShotRun"):
    """The real training set the shots come from (decoded lazily; only chosen shots are ever decoded)."""
    from ..datasets import get_dataset_info, load_dataset, load_image_folder

    fs = run.fs
    if fs.image_folder:
        ds = load_image_folder(fs.image_folder, classnames=run.names, skip_corrupt=False)
    else:
        name = fs.dataset or run.cfg.labels.dataset
        if not name:
            raise ConfigError("fewshot has no real training set",
                              "set fewshot.dataset (a built-in dataset) or fewshot.image_folder")
        split = fs.split or get_dataset_info(name).fewshot_train_split
        if split is None:
            raise ConfigError(f"{name} has no few-shot training split", "set fewshot.split")
        ds = load_dataset(name, root=fs.root, split=split, download=fs.download, skip_corrupt=False)
    names = list(getattr(ds, "classnames", run.names))
    if names != run.names:
        raise DataError(f"the few-shot training set's classes ({len(names)}) differ from the label space "
                        f"({len(run.names)}) in names or order",
                        "use a real training set with the same classes, in the same order")
    return ds


def load_test(run: "FewShotRun") -> tuple[Features, str]:
    ds = run.ctx.test_set()
    items, labels = dataset_items(ds, skip_corrupt=bool(run.cfg.evaluate and run.cfg.evaluate.skip_corrupt),
                                  what="test image")
    feats = run.encode(items, "few-shot: encoding test images")
    return Features(feats, labels), getattr(ds, "name", "test")


def draw_shots(run: "FewShotRun", pool, k: int, seed: int) -> Shots:
    """The k shots per class of ``seed`` (undecodable images replaced by the next of the same class), written to
    ``shots/`` and encoded."""
    from ..features import InMemoryImage, image_sha256

    ids = [source_of(pool, i) for i in range(len(pool))]
    orders = class_orders(pool.labels, seed, ids=ids, num_classes=len(run.names))

    def decode(i):
        image, _ = pool[i]
        return image

    picked = draw_decodable(orders, k, decode, skip_corrupt=run.fs.skip_corrupt, describe=lambda i: ids[i],
                            classnames=run.names)
    idx, labels, images, shas, files = [], [], [], [], []
    paths = getattr(pool, "paths", None)
    for c in sorted(picked):
        for i, image in picked[c]:
            sha = image_sha256(image)
            idx.append(i)
            labels.append(c)
            images.append(image)
            shas.append(sha)
            files.append(paths[i] if paths is not None else _shot_png(run, image, sha, ids[i]))
    shots = Shots(k, seed, idx, labels, images, shas, files)
    write_shots(run.out / "shots", k, seed, {c: [i for i, _ in v] for c, v in picked.items()}, ids,
                classnames=run.names, sha256=dict(zip(idx, shas)), files=dict(zip(idx, files)))
    items = [(s, InMemoryImage(im, ids[i])) for s, im, i in zip(shas, images, idx)]
    shots.feats = run.encode(items, f"few-shot: encoding {k}-shot real images")
    return shots


def _shot_png(run: "FewShotRun", image, sha: str, source: str) -> str:
    """In-memory shots (built-in digits) become files, because Real Guidance's work units name a file; the name
    carries the shot's id, so a manifest's ``source_shot`` says which real image it was."""
    from ..labels import safe_dirname

    path = run.out / "shots" / "images" / f"{safe_dirname(source, 60)}-{sha[:16]}.png"
    if not path.is_file():
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        _io.write_bytes(path, buf.getvalue())
    return str(path)


def source_of(ds, i: int) -> str:
    fn = getattr(ds, "source_of", None)
    return fn(i) if fn is not None else f"{getattr(ds, 'name', 'real')}[{i}]"


def dataset_items(ds, *, skip_corrupt: bool, what: str) -> tuple[list, list[int]]:
    """(content key, loader) items for the feature cache, and labels, for a loaded dataset; keyed by decoded
    pixels as the evaluate stage keys them, so both stages share cached test features."""
    from ..features import InMemoryImage, image_sha256

    items, labels = [], []
    for i in range(len(ds)):
        try:
            image, label = ds[i]
        except Exception as exc:  # any decoder failure inside a dataset
            if not skip_corrupt:
                raise DataError(f"{what} {source_of(ds, i)} cannot be decoded ({' '.join(str(exc).split())[:160]})",
                                "fix or remove it, or set evaluate.skip_corrupt: true") from None
            log.warning("skipping undecodable %s %s", what, source_of(ds, i))
            continue
        items.append((image_sha256(image), InMemoryImage(image, source_of(ds, i))))
        labels.append(int(label))
    if not items:
        raise DataError(f"no usable {what}s", "check the dataset's root and split")
    return items, labels
