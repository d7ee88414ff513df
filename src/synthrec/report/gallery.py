"""The report's gallery: per class, images the filter kept and images it rejected (each with the class the filter
took it for), and links to the run's exports. Reads only files the stages wrote."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from .. import _io
from ..stages import stage_dir, stage_file
from . import html as H

log = logging.getLogger("synthrec")
THUMB = 64


def gallery_section(run_dir: Path, labels: list[str], per_class: int) -> tuple[str, str]:
    """(html, markdown) of the gallery; without filter scores it shows generated images per class."""
    manifest = read_manifest_or_none(run_dir)
    if manifest is None or not labels:
        note = "No generated images yet."
        return f"<h2>Samples</h2><p class=\"note\">{note}</p>", f"## Samples\n\n{note}\n"
    rows = {r["image_id"]: r for r in manifest.to_pylist()}
    scores = _scores(run_dir, labels)
    parts = ["<h2>Samples</h2>"]
    md = ["## Samples", ""]
    if scores is None:
        parts.append(f"<p class=\"note\">Up to {per_class} generated images per class (the filter has not run)."
                     "</p>")
        for cid, name in enumerate(labels):
            mine = [r for r in rows.values() if r["class_id"] == cid][:per_class]
            parts.append(f"<h3>{H.esc(name)}</h3>" + _strip(run_dir, [(r, "") for r in mine]))
        return "".join(parts), "\n".join(md + ["The filter has not run.", ""])
    parts.append(f"<p class=\"note\">Per class, up to {per_class} images the CLIP filter kept and up to "
                 f"{per_class} it rejected; under each rejected image, the class the filter took it for and its "
                 "p(intended class).</p>")
    md_rows = []
    for cid, name in enumerate(labels):
        mine = [s for s in scores if s["class_id"] == cid and s["image_id"] in rows]
        kept = [s for s in mine if s["kept"]]
        rejected = [s for s in mine if not s["kept"] and not s.get("duplicate") and not s.get("error")]
        md_rows.append([name, len(kept), len(rejected), _most_confused(rejected)])
        parts.append(f"<h3>{H.esc(name)}: {len(kept)} kept, {len(rejected)} rejected</h3>")
        parts.append("<p>kept</p>" + _strip(run_dir, [(rows[s["image_id"]], f"{s['p_true']:.2f}")
                                                      for s in kept[:per_class]]))
        parts.append("<p>rejected</p>" + _strip(run_dir, [
            (rows[s["image_id"]], f"→ {s['thought']} ({s['p_true']:.2f})") for s in rejected[:per_class]]))
    md += [H.md_table(["class", "kept", "rejected", "rejected ones most often taken for"], md_rows), ""]
    return "".join(parts), "\n".join(md)


def read_manifest_or_none(run_dir: Path):
    """The run's manifest, or None when it has no generated images (or they cannot be read)."""
    from ..generate import read_manifest

    try:
        table = read_manifest(stage_dir(run_dir, "generate"))
    except Exception as exc:  # a report must render even when a stage's output is missing or damaged
        log.debug("report: no manifest (%s)", exc)
        return None
    return table if table.num_rows else None


def _scores(run_dir: Path, labels: list[str]) -> list[dict] | None:
    path = stage_file(run_dir, "filter", "scores")
    if not path.is_file():
        return None
    rows = _io.read_parquet(path).to_pylist()
    for r in rows:
        name = r.get("argmax_name")
        if name is None and r.get("argmax") is not None and 0 <= r["argmax"] < len(labels):
            name = labels[r["argmax"]]  # tables written before scores named the filter's class
        r["thought"] = name or "?"
    return rows


def _most_confused(rejected: list[dict]) -> str:
    from collections import Counter

    counts = Counter(s["thought"] for s in rejected)
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
