"""The report's gallery: per class, images the filter kept and images it rejected (each with the class the filter
took it for), and links to the run's exports. Reads only files the stages wrote."""
from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

from .. import _io
from ..stages import stage_dir, stage_file
from . import html as H

log = logging.getLogger("synthrec")
THUMB = 64


def gallery_section(run_dir: Path, labels: list[str], per_class: int, *, manifest=None,
                    scores=None) -> tuple[str, str]:
    """(html, markdown) of the gallery; without filter scores it shows generated images per class.

    ``manifest`` and ``scores`` (tables) are read from the run folder unless the caller has read them already. One
    pass over the scores (or the manifest) picks every class's samples, and only the rows shown are materialised,
    so the cost grows with the samples shown and not as images x classes.
    """
    if manifest is None:
        manifest = read_manifest_or_none(run_dir)
    if manifest is None or not labels:
        note = "No generated images yet."
        return f"<h2>Samples</h2><p class=\"note\">{note}</p>", f"## Samples\n\n{note}\n"
    if scores is None:
        scores = read_scores_or_none(run_dir)
    parts = ["<h2>Samples</h2>"]
    md = ["## Samples", ""]
    if scores is None:
        parts.append(f"<p class=\"note\">Up to {per_class} generated images per class (the filter has not run)."
                     "</p>")
        picked: dict[int, list[str]] = {cid: [] for cid in range(len(labels))}
        for cid, image_id in zip(manifest.column("class_id").to_pylist(), manifest.column("image_id").to_pylist()):
            bucket = picked.get(cid)
            if bucket is not None and len(bucket) < per_class:
                bucket.append(image_id)
        rows = _rows_by_id(manifest, [i for ids in picked.values() for i in ids])
        for cid, name in enumerate(labels):
            parts.append(f"<h3>{H.esc(name)}</h3>" + _strip(run_dir, [(rows[i], "") for i in picked[cid]]))
        return "".join(parts), "\n".join(md + ["The filter has not run.", ""])
    parts.append(f"<p class=\"note\">Per class, up to {per_class} images the CLIP filter kept and up to "
                 f"{per_class} it rejected; under each rejected image, the class the filter took it for and its "
                 "p(intended class).</p>")
    classes = _score_classes(scores, labels, set(manifest.column("image_id").to_pylist()), per_class)
    rows = _rows_by_id(manifest, [s["image_id"] for c in classes for s in c.kept_shown + c.rejected_shown])
    md_rows = []
    for c, name in zip(classes, labels):
        md_rows.append([name, c.kept, c.rejected, _most_confused(c.confused)])
        parts.append(f"<h3>{H.esc(name)}: {c.kept} kept, {c.rejected} rejected</h3>")
        parts.append("<p>kept</p>" + _strip(run_dir, [(rows[s["image_id"]], f"{s['p_true']:.2f}")
                                                      for s in c.kept_shown]))
        parts.append("<p>rejected</p>" + _strip(run_dir, [
            (rows[s["image_id"]], f"→ {s['thought']} ({s['p_true']:.2f})") for s in c.rejected_shown]))
    md += [H.md_table(["class", "kept", "rejected", "rejected ones most often taken for"], md_rows), ""]
    return "".join(parts), "\n".join(md)


class _ClassScores:
    """One class's counts, the filter's guesses for its rejected images, and the first ones of each kind to show."""

    def __init__(self):
        self.kept = self.rejected = 0
        self.confused: Counter = Counter()
        self.kept_shown: list[dict] = []
        self.rejected_shown: list[dict] = []


def _score_classes(scores, labels: list[str], generated: set, per_class: int) -> list[_ClassScores]:
    """Every class's :class:`_ClassScores`, in one pass over the score table (scores of images no longer in the
    manifest left out)."""
    classes = [_ClassScores() for _ in labels]
    columns = {name: scores.column(name).to_pylist() if name in scores.column_names else [None] * scores.num_rows
               for name in ("image_id", "class_id", "kept", "duplicate", "error", "p_true", "argmax", "argmax_name")}
    for image_id, cid, kept, duplicate, error, p_true, argmax, argmax_name in zip(*columns.values()):
        if cid is None or not 0 <= cid < len(classes) or image_id not in generated:
            continue
        c = classes[cid]
        if kept:
            c.kept += 1
            if len(c.kept_shown) < per_class:
                c.kept_shown.append({"image_id": image_id, "p_true": p_true})
        elif not duplicate and not error:
            thought = argmax_name
            if thought is None and argmax is not None and 0 <= argmax < len(labels):
                thought = labels[argmax]  # tables written before scores named the filter's class
            thought = thought or "?"
            c.rejected += 1
            c.confused[thought] += 1
            if len(c.rejected_shown) < per_class:
                c.rejected_shown.append({"image_id": image_id, "p_true": p_true, "thought": thought})
    return classes


def _rows_by_id(manifest, image_ids: list[str]) -> dict[str, dict]:
    """The manifest rows of ``image_ids`` only (a run's manifest can hold millions of rows)."""
    wanted = set(image_ids)
    positions = [i for i, image_id in enumerate(manifest.column("image_id").to_pylist()) if image_id in wanted]
    return {r["image_id"]: r for r in (manifest.slice(i, 1).to_pylist()[0] for i in positions)}


def read_manifest_or_none(run_dir: Path):
    """The run's manifest, or None when it has no generated images (or they cannot be read)."""
    from ..generate import read_manifest

    try:
        table = read_manifest(stage_dir(run_dir, "generate"))
    except Exception as exc:  # a report must render even when a stage's output is missing or damaged
        log.debug("report: no manifest (%s)", exc)
        return None
    return table if table.num_rows else None


def read_scores_or_none(run_dir: Path):
    """The filter's score table, or None when the filter has not run."""
    path = stage_file(run_dir, "filter", "scores")
    return _io.read_parquet(path) if path.is_file() else None


def _most_confused(counts: Counter) -> str:
    return ", ".join(f"{n} ({c})" for n, c in counts.most_common(3)) or "–"


def _strip(run_dir: Path, items: list[tuple[dict, str]]) -> str:
    from ..generate import load_image

    if not items:
        return "<p class=\"note\">none</p>"
    figures = []
    for row, caption in items:
        try:
            image = load_image(stage_dir(run_dir, "generate"), row)
        except Exception as exc:  # one unreadable sample must not sink the whole report
            log.warning("report: cannot read %s (%s)", row.get("image_id"), exc)
            continue
        thumb = H.image_grid([image], cols=1, cell=THUMB, pad=0)
        figures.append(f"<figure>{H.img_tag(H.png_data_uri(thumb), row['image_id'], pixelated=True)}"
                       f"<figcaption>{H.esc(caption)}</figcaption></figure>")
    return f"<div class=\"grid\">{''.join(figures)}</div>"


def exports_section(run_dir: Path) -> tuple[str, str]:
    """Links to the exports made from this run (``synthrec export``), relative to the report folder."""
    from ..export import list_exports

    entries = list_exports(run_dir)
    if not entries:
        note = "No exports yet: `synthrec export RUN_DIR --format imagefolder|webdataset|hf|parquet --out DIR`."
        return f"<h2>Exports</h2><p class=\"note\">{H.esc(note)}</p>", f"## Exports\n\n{note}\n"
    report_dir = stage_dir(run_dir, "report").resolve()
    items, md = [], []
    for e in entries:
        target = Path(e["out"])
        href = os.path.relpath(target, report_dir) if target.is_absolute() else str(target)
        gone = "" if target.exists() else " (no longer there)"
        label = f"{e['format']}: {e['images']} images ({e['selection']}){gone}"
        items.append(f"<li><a href=\"{H.esc(href)}\">{H.esc(target)}</a> {H.esc(label)}</li>")
        md.append(f"- [{target}]({href}) {label}")
    return f"<h2>Exports</h2><ul>{''.join(items)}</ul>", "## Exports\n\n" + "\n".join(md) + "\n"
