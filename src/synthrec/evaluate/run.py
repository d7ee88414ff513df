"""The evaluate stage: top-1 of each head (zero-shot baseline, tuned head, ...) on a real test set.

Test images go through the same content-keyed feature cache as training (keyed by their decoded pixels), so
re-evaluating a new head costs one matrix product. Writes ``metrics.json``::

    {"n_images", "n_skipped", "classnames", "encoder_id", "encoder_fingerprint",
     "heads": {name: {"top1", "correct", "n", "per_class": {classname: {"top1", "correct", "n"}}}}}
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from .. import _io
from ..config.schema import EvaluateConfig
from ..errors import DataError
from ..features.cache import encode_with_cache, image_sha256
from ..features.encoders.base import ImageTextEncoder
from ..train.head import ClassifierHead
from .metrics import top1_report

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.json"


def evaluate_heads(encoder: ImageTextEncoder, heads: Mapping[str, ClassifierHead], data: Any,
                   classnames: Sequence[str], cache_dir: str | os.PathLike | None, *,
                   out_dir: str | os.PathLike | None = None, cfg: EvaluateConfig | None = None,
                   batch_size: int = 256, progress: bool = True) -> dict:
    """Evaluate ``heads`` on ``data``: a loaded dataset (a sequence of (PIL image, label), optionally with
    ``.classnames``, e.g. ``synthrec.datasets.load_dataset(...)``) or an (images, labels) pair of lists.

    Undecodable test images stop the run with a clear error unless ``cfg.skip_corrupt``; then they are logged and
    left out, and ``n_skipped`` says how many.
    """
    classnames = list(classnames)
    _check_heads(heads, encoder, classnames)
    get, n = _accessor(data, classnames)
    skip = bool(cfg and cfg.skip_corrupt)
    shas, labels, loaders, skipped = _index(get, n, skip)
    if not labels:
        raise DataError("the test set has no usable images", "check the dataset's root and split")
    bad = [lb for lb in labels if not 0 <= lb < len(classnames)]
    if bad:
        raise DataError(f"test label {bad[0]} lies outside the {len(classnames)} classes",
                        "evaluate on a dataset labelled in the label space's class ids")
    feats = encode_with_cache(encoder, list(zip(shas, loaders)), cache_dir, batch_size=batch_size, progress=progress,
                              desc="evaluate: encoding test images")
    y = torch.tensor(labels)
    results = {}
    for name, head in heads.items():
        with torch.no_grad():
            preds = torch.cat([head(f).argmax(dim=-1) for f in feats.split(8192)])
        results[name] = top1_report(preds, y, classnames)
        log.info("%s: top-1 %.2f%% on %d test images", name, 100 * results[name]["top1"], len(y))
    metrics = {"n_images": len(labels), "n_skipped": skipped, "classnames": classnames,
               "encoder_id": encoder.encoder_id, "encoder_fingerprint": encoder.fingerprint, "heads": results}
    if out_dir is not None:
        _io.write_json(Path(out_dir) / METRICS_FILE, metrics)
        log.info("wrote %s", Path(out_dir) / METRICS_FILE)
    return metrics


def _check_heads(heads: Mapping[str, ClassifierHead], encoder: ImageTextEncoder, classnames: list[str]) -> None:
    if not heads:
        raise ValueError("no heads to evaluate")
    for name, head in heads.items():
        if head.num_classes != len(classnames) or head.in_features != encoder.embed_dim:
            raise DataError(f"head {name!r} maps {head.in_features}-d features to {head.num_classes} classes, but the "
                            f"encoder gives {encoder.embed_dim}-d features and the label space has {len(classnames)}",
                            "evaluate a head trained for this encoder and label space")
        fp = head.meta.get("encoder_fingerprint")
        if fp and fp != encoder.fingerprint:
            raise DataError(f"head {name!r} was built on {head.meta.get('encoder_id', 'another encoder')}'s features, "
                            f"not {encoder.encoder_id}'s", "evaluate it with the encoder it was trained with")
        names = head.meta.get("classnames")
        if names and list(names) != classnames:
            raise DataError(f"head {name!r} was built for other class names (or another order)",
                            "evaluate it against the label space it was trained for")


def _accessor(data: Any, classnames: list[str]):
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tuple):
        images, labels = data
        if len(images) != len(labels):
            raise DataError(f"{len(images)} test images but {len(labels)} labels", "pass one label per image")
        return (lambda i: (images[i], labels[i])), len(images)
    names = getattr(data, "classnames", None)
    if names is not None and list(names) != classnames:
        raise DataError("the test set's class names differ from the label space (names or order)",
                        "evaluate on a dataset with the same classes in the same order, or map its labels first")
    return (lambda i: data[i]), len(data)


def _index(get, n: int, skip: bool):
    """Decode every test image once for its content key; a missing feature re-decodes it later (memory stays flat)."""
    def one(i):
        try:
            image, label = get(i)
            return image_sha256(image), int(label), None
        except Exception as exc:  # a broken file inside a dataset
            return None, None, " ".join(str(exc).split()) or type(exc).__name__

    shas, labels, loaders, skipped = [], [], [], 0
    with cf.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for i, (sha, label, err) in enumerate(pool.map(one, range(n))):
            if err is not None:
                if not skip:
                    raise DataError(f"test image {i} cannot be decoded ({err})",
                                    "fix or remove it, or set evaluate.skip_corrupt: true to leave it out")
                log.warning("skipping undecodable test image %d (%s)", i, err)
                skipped += 1
                continue
            shas.append(sha)
            labels.append(label)
            loaders.append(_Fetch(get, i))
    return shas, labels, loaders, skipped


class _Fetch:
    def __init__(self, get, i: int):
        self._get, self._i = get, i
        self.source = f"test image {i}"

    def __call__(self):
        return self._get(self._i)[0]
