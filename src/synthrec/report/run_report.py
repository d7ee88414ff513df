"""report.html and report.md for one run folder, read from the files its stages wrote.

It reads only files, so it works on half-finished runs too: a section whose stage has not run says so.
"""
from __future__ import annotations

import logging
from pathlib import Path

import yaml

from .. import _io
from ..stages import stage_dir, stage_file
from . import html as H
from .filter_scores import score_histogram

log = logging.getLogger("synthrec")


def write_report(run_dir: str | Path, samples_per_class: int | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    samples_per_class = samples_per_class or (cfg.get("report") or {}).get("samples_per_class", 8)
    title = (cfg.get("report") or {}).get("title") or f"synthrec run: {run_dir.name}"
    labels = _read_labels(run_dir)
    metrics = _io.read_json_or_none(stage_file(run_dir, "evaluate", "metrics"))
    train = _io.read_json_or_none(stage_file(run_dir, "train", "log"))

    html_parts = [f"<h1>{H.esc(title)}</h1>", f'<p class="note">Run folder: {H.esc(run_dir.resolve())}</p>']
    md_parts = [f"# {H.md_esc(title)}", "", f"Run folder: {H.md_esc(run_dir.resolve())}", ""]

    h, m = _results_section(metrics, labels)
    html_parts.append(h)
    md_parts.append(m)
    from .gallery import exports_section, gallery_section, read_manifest_or_none, read_scores_or_none

    manifest, scores = read_manifest_or_none(run_dir), read_scores_or_none(run_dir)  # read once, used by every section
    h, m = _data_section(run_dir, manifest, scores, train)
    html_parts.append(h)
    md_parts.append(m)
    if stage_dir(run_dir, "fewshot").is_dir():
        from .fewshot import fewshot_section

        h, m = fewshot_section(run_dir)
        html_parts.append(h)
        md_parts.append(m)
    if stage_dir(run_dir, "pretrain").is_dir() or stage_dir(run_dir, "transfer").is_dir():
        from .pretrain import pretrain_section

        h, m = pretrain_section(run_dir)
        html_parts.append(h)
        md_parts.append(m)
    html_parts.append(_filter_histogram(run_dir, scores))
    html_parts.append(_training_curve(train))
    for h, m in (gallery_section(run_dir, labels, samples_per_class, manifest=manifest, scores=scores),
                 exports_section(run_dir)):
        html_parts.append(h)
        md_parts.append(m)
    cfg_text = yaml.safe_dump(cfg, sort_keys=False)
    html_parts.append(f"<h2>Configuration</h2><pre>{H.esc(cfg_text)}</pre>")
    md_parts += ["## Configuration", "", "```yaml", cfg_text.rstrip(), "```", ""]

    html_path, md_path = stage_file(run_dir, "report", "html"), stage_file(run_dir, "report", "markdown")
    _io.write_text(html_path, H.page(title, "\n".join(html_parts)))
    _io.write_text(md_path, "\n".join(md_parts) + "\n")
    log.info("report: wrote %s", html_path)
    return html_path


def _read_labels(run_dir: Path) -> list[str]:
    data = _io.read_json_or_none(stage_file(run_dir, "labels", "labels"))
    return [c["name"] for c in data["classes"]] if data else []


def _heads(metrics: dict) -> dict:
    return metrics.get("heads", {}) if metrics else {}


def _results_section(metrics: dict | None, labels: list[str]) -> tuple[str, str]:
    heads = _heads(metrics)
    if not heads:
        note = "No evaluation yet: the run has no test set configured, or the evaluate stage has not run."
        return f"<h2>Results</h2><p class=\"note\">{note}</p>", f"## Results\n\n{note}\n"
    rows = [[name, H.fmt_pct(h.get("top1")), h.get("n", "")] for name, h in heads.items()]
    if "baseline" in heads and "tuned" in heads:
        delta = heads["tuned"]["top1"] - heads["baseline"]["top1"]
        rows.append(["Δ (tuned − baseline)", f"{100 * delta:+.2f}", ""])
    headers = ["head", "top-1 (%)", "test images"]
    src = metrics.get("test_set", "")
    html = ("<h2>Results</h2><p>The zero-shot CLIP head (baseline) against the head tuned on synthetic images, on "
            f"the real test set {H.esc(src)}. The tuned head is the final-epoch model, never one chosen on the test "
            "set.</p>" + H.table(headers, rows) + _per_class_plot(heads, labels))
    md = f"## Results\n\nTest set: {H.md_esc(src)}\n\n" + H.md_table(headers, rows) + "\n"
    per = _per_class_rows(heads, labels)
    if per:
        md += "\n### Per class top-1 (%)\n\n" + H.md_table(["class", *heads], per) + "\n"
    return html, md


def _per_class_rows(heads: dict, labels: list[str]) -> list[list]:
    if not heads:
        return []
    names = labels or list(next(iter(heads.values())).get("per_class", {}))
    return [[n, *[H.fmt_pct(_per_class(h, n)) for h in heads.values()]] for n in names]


def _per_class(head: dict, name: str):
    entry = head.get("per_class", {}).get(name)
    return entry.get("top1") if isinstance(entry, dict) else entry


def _per_class_plot(heads: dict, labels: list[str]) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    rows = _per_class_rows(heads, labels)
    if not rows:
        return ""
    names = [r[0] for r in rows]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names) + 2), 3.4))
    width = 0.8 / len(heads)
    for j, (hname, h) in enumerate(heads.items()):
        vals = [100 * (_per_class(h, n) or 0) for n in names]
        ax.bar(x + j * width - 0.4 + width / 2, vals, width, label=hname)
    many = len(names) > 12
    ax.set_xticks(x, [n[:18] for n in names], rotation=60 if many else 0, ha="right" if many else "center",
                  fontsize=8)
    ax.set_ylabel("top-1 (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("Per-class accuracy on the real test set")
    return "<h3>Per class</h3>" + H.img_tag(H.figure_data_uri(fig), "per-class accuracy")


def _data_section(run_dir: Path, manifest, scores, train: dict | None) -> tuple[str, str]:
    rows = []
    prompts = stage_file(run_dir, "prompts", "prompts")
    if prompts.is_file():
        rows.append(["prompts", _io.read_parquet(prompts).num_rows])
    if manifest is not None:
        rows.append(["generated images", manifest.num_rows])
        blacked = sum(manifest.column("blacked_out").to_pylist())
        rows.append(["blacked out by the safety checker (left out of filter and training)", blacked])
    if scores is not None and "kept" in scores.column_names:
        rows.append(["kept by the CLIP filter", sum(bool(v) for v in scores.column("kept").to_pylist())])
    if train and train.get("num_images") is not None:
        rows.append(["images the head was tuned on", train["num_images"]])
    rows = rows or [["(no data yet)", ""]]
    return ("<h2>Data</h2>" + H.table(["what", "count"], rows), "## Data\n\n" + H.md_table(["what", "count"], rows)
            + "\n")


def _filter_histogram(run_dir: Path, scores) -> str:
    import matplotlib.pyplot as plt

    if scores is None:
        return "<h2>CLIP filter</h2><p class=\"note\">The filter stage has not run (or is disabled).</p>"
    p = [v for v in scores.column("p_true").to_pylist() if v is not None]
    fig, ax = plt.subplots(figsize=(6, 3))
    score_histogram(ax, p, run_dir)
    ax.set_xlabel("CLIP p(intended class)")
    ax.set_ylabel("images")
    ax.set_title("CLIP filter scores of generated images")
    return "<h2>CLIP filter</h2>" + H.img_tag(H.figure_data_uri(fig), "filter score histogram")


def _training_curve(train: dict | None) -> str:
    import matplotlib.pyplot as plt

    curve = (train or {}).get("curve")
    if not curve:
        return ""
    losses = [c.get("loss") for c in curve if isinstance(c, dict)]
    if not losses:
        return ""
    fig, ax = plt.subplots(figsize=(5, 2.8))
    ax.plot(range(1, len(losses) + 1), losses, marker=".")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("Classifier tuning")
    return "<h2>Training</h2>" + H.img_tag(H.figure_data_uri(fig), "training curve")
