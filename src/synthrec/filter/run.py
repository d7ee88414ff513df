"""The filter stage: score every generated image with CLIP, apply the selection rule, write the results.

Writes, atomically and in this order, into ``out_dir``:

* ``scores.parquet``: one row per image: image_id, class_id, class_name, sha256, source, p_true, p_max, argmax,
  argmax_name (the class the filter thought it was), duplicate, kept, selected_by (threshold | random_subset | fill_to_cap | unfiltered | null), error (why an image could not be decoded).
* ``filter.json``: the rule as applied (threshold as a number, cap, seed, encoder, prompts) and per-class counts.
* ``selection.parquet``: the kept images: image_id, class_id, class_name, sha256, source, p_true, selected_by. Written last,
  so its presence marks a finished stage.

Undecodable images are logged with their file, recorded with their error and never kept. Features go through the
content-keyed cache, so training re-uses what filtering encoded.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa

from .. import _io
from ..config.schema import FilterConfig
from ..errors import ConfigError
from ..labels import DEFAULT_TEMPLATE
from ..features.cache import encode_items
from ..features.encoders import ImageTextEncoder, create_encoder
from ..train.zero_shot import zero_shot_weights
from .items import FilterItem, cache_items, validate_items
from .rule import Selection, select
from .score import Scores, score_features

log = logging.getLogger(__name__)
SCORES_FILE, SELECTION_FILE, SUMMARY_FILE = "scores.parquet", "selection.parquet", "filter.json"
UNFILTERED = "unfiltered"
_SLICE = 65536


@dataclass
class FilterResult:
    kept: list[int]  # indices into the items, in input order
    scores: pa.Table
    selection: pa.Table
    summary: dict


def run_filter(items: Sequence[FilterItem], classnames: Sequence[str], cfg: FilterConfig,
               out_dir: str | os.PathLike, *, seed: int, encoder: ImageTextEncoder | str | None = None,
               cache_dir: str | os.PathLike | None = None, templates: Sequence[str] | None = None,
               progress: bool = True) -> FilterResult:
    """Filter ``items`` for the label space ``classnames``.

    Prompts: ``cfg.template`` if set, else ``templates`` (the run's label prompt), else "a photo of a {c}."; several
    prompts are ensembled as in the zero-shot head. ``encoder`` defaults to ``cfg.encoder``. With ``cfg.enabled``
    false every decodable image is kept (still de-duplicated when ``cfg.dedup``) and scores are still written.
    """
    k = len(classnames)
    validate_items(items, k)
    if cfg.fill_to_cap and cfg.per_class_cap is None:
        raise ConfigError("filter.fill_to_cap is set without filter.per_class_cap",
                          "set per_class_cap (the paper used 800) or turn fill_to_cap off")
    encoder = _resolve_encoder(encoder, cfg)
    prompts = [cfg.template] if cfg.template else list(templates or [DEFAULT_TEMPLATE])
    out_dir = Path(out_dir)
    log.info("filtering %d images over %d classes with %s; output in %s", len(items), k, encoder.encoder_id, out_dir)

    scores, failed = _score_all(items, classnames, prompts, encoder, cache_dir, cfg.batch_size, progress)
    if failed:
        log.warning("%d undecodable image(s) excluded; scores.parquet lists them in its error column", len(failed))
    valid = np.array([i not in failed for i in range(len(items))], dtype=bool)
    ids, shas = [it.image_id for it in items], [it.sha256 for it in items]
    if cfg.enabled:
        sel = select([it.class_id for it in items], scores.p_true, ids, shas, num_classes=k, seed=seed,
                     threshold=cfg.threshold, cap=cfg.per_class_cap, fill_to_cap=cfg.fill_to_cap, dedup=cfg.dedup,
                     valid=valid)
    else:
        sel = select([it.class_id for it in items], scores.p_true, ids, shas, num_classes=k, seed=seed,
                     threshold=-1.0, dedup=cfg.dedup, valid=valid)
        sel.selected_by = [UNFILTERED if kept else None for kept in sel.kept]

    scores_table = _scores_table(items, classnames, scores, sel, failed)
    kept = [i for i in range(len(items)) if sel.kept[i]]
    selection_table = scores_table.take(pa.array(kept, type=pa.int64())).select(
        ["image_id", "class_id", "class_name", "sha256", "source", "p_true", "selected_by"])
    summary = _summary(items, classnames, cfg, sel, failed, encoder, prompts, seed)
    _io.write_parquet(out_dir / SCORES_FILE, scores_table)
    _io.write_json(out_dir / SUMMARY_FILE, summary)
    _io.write_parquet(out_dir / SELECTION_FILE, selection_table)
    log.info("kept %d of %d images (threshold %.4g); wrote %s", len(kept), len(items), sel.threshold,
             out_dir / SELECTION_FILE)
    return FilterResult(kept=kept, scores=scores_table, selection=selection_table, summary=summary)


def _score_all(items, classnames, prompts, encoder, cache_dir, batch_size, progress) -> tuple[Scores, dict[int, str]]:
    """Scores of all items, encoded through the cache slice by slice so features of millions of images never sit in
    memory at once (2M x 1024 float32 would be 8 GB)."""
    weights = zero_shot_weights(encoder, classnames, prompts, cache_dir)
    parts, failed = [], {}
    for start in range(0, len(items), _SLICE):
        part = items[start:start + _SLICE]
        encoded = encode_items(encoder, cache_items(part), cache_dir, batch_size=batch_size, on_error="skip",
                               progress=progress, desc="filter: encoding images")
        failed.update({start + i: msg for i, msg in encoded.failed.items()})
        parts.append(score_features(encoded.features, [it.class_id for it in part], weights))
    if not parts:
        return Scores(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)), failed
    return Scores(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("p_true", "p_max", "argmax"))), failed


def _resolve_encoder(encoder, cfg: FilterConfig) -> ImageTextEncoder:
    if isinstance(encoder, ImageTextEncoder):
        return encoder
    spec = encoder or cfg.encoder
    if not spec:
        raise ConfigError("the filter has no encoder", "set filter.encoder (or train.encoder), e.g. open_clip:RN50/openai")
    return create_encoder(spec)


def _scores_table(items, classnames, scores: Scores, sel: Selection, failed: dict[int, str]) -> pa.Table:
    return pa.table({
        "image_id": pa.array([it.image_id for it in items], pa.string()),
        "class_id": pa.array([int(it.class_id) for it in items], pa.int64()),
        "class_name": pa.array([classnames[int(it.class_id)] for it in items], pa.string()),
        "sha256": pa.array([it.sha256 for it in items], pa.string()),
        "source": pa.array([it.source or it.image_id for it in items], pa.string()),
        "p_true": pa.array(scores.p_true, pa.float64()),
        "p_max": pa.array(scores.p_max, pa.float64()),
        "argmax": pa.array(scores.argmax, pa.int64()),
        "argmax_name": pa.array([classnames[int(a)] if a >= 0 else None for a in scores.argmax], pa.string()),
        "duplicate": pa.array(sel.duplicate, pa.bool_()),
        "kept": pa.array(sel.kept, pa.bool_()),
        "selected_by": pa.array(sel.selected_by, pa.string()),
        "error": pa.array([failed.get(i) for i in range(len(items))], pa.string()),
    })


def _summary(items, classnames, cfg: FilterConfig, sel: Selection, failed, encoder, prompts, seed) -> dict:
    def count(mask_fn) -> Counter:
        return Counter(int(it.class_id) for i, it in enumerate(items) if mask_fn(i))

    total, bad = count(lambda i: True), count(lambda i: i in failed)
    dup, kept = count(lambda i: bool(sel.duplicate[i])), count(lambda i: bool(sel.kept[i]))
    fill = count(lambda i: sel.selected_by[i] == "fill_to_cap")
    return {
        "enabled": cfg.enabled,
        "threshold": sel.threshold if cfg.enabled else None,
        "threshold_rule": "p(intended) > threshold" + (" (default 1/N)" if cfg.threshold is None else ""),
        "per_class_cap": cfg.per_class_cap, "fill_to_cap": cfg.fill_to_cap, "dedup": cfg.dedup, "seed": int(seed),
        "encoder_id": encoder.encoder_id, "encoder_fingerprint": encoder.fingerprint, "prompts": list(prompts),
        "n_images": len(items), "n_kept": int(sel.kept.sum()), "n_undecodable": len(failed),
        "n_duplicates": int(sel.duplicate.sum()),
        "per_class": [{"class_id": c, "name": name, "images": total[c], "undecodable": bad[c], "duplicates": dup[c],
                       "kept": kept[c], "filled_below_threshold": fill[c]} for c, name in enumerate(classnames)],
    }
