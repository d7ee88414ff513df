"""Report writers of the pre-training setting: training curves, the transfer table, and the glyph-world demo's
report (the paper's Tables 8-11 in miniature, with its four conclusions checked against the run's numbers).

They read only what the stages wrote (``pretrain/history.json``, ``transfer/results.json``, the demo's summary).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import _io
from . import html as H

PRETRAIN_DIR, TRANSFER_DIR = "pretrain", "transfer"


def plot_history(curves: dict[str, list[dict]], path: Path, title: str = "pre-training") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, history in curves.items():
        epochs = [h["epoch"] for h in history]
        loss_ax.plot(epochs, [h.get("loss") for h in history], marker="o", label=name)
        lr_ax.plot(epochs, [h["lr"] for h in history], marker=".", label=name)
    loss_ax.set(title=f"{title}: training loss", xlabel="epoch")
    lr_ax.set(title="learning rate at the epoch's end", xlabel="epoch", yscale="log")
    loss_ax.legend(fontsize=7)
    fig.tight_layout()
    with _io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path


def pretrain_section(run_dir: str | Path, png_dir: Path | None = None) -> tuple[str, str]:
    """(html, markdown) of a run's pre-training curves and transfer table; a note for what has not run.

    ``png_dir``: also write the curves there as ``pretrain_curves.png`` for the markdown to link."""
    run_dir = Path(run_dir)
    history = _io.read_json_or_none(run_dir / PRETRAIN_DIR / "history.json")
    results = _io.read_json_or_none(run_dir / TRANSFER_DIR / "results.json")
    html, md = ["<h2>Pre-training</h2>"], ["## Pre-training", ""]
    if history:
        png = plot_history({"pre-training": history}, (png_dir or run_dir / PRETRAIN_DIR) / "pretrain_curves.png")
        html.append(H.img_tag(H.png_data_uri(_open(png)), "pre-training curves"))
        rows = [[h["epoch"], f"{h.get('loss', float('nan')):.4f}", f"{h['lr']:.3g}", h["images"], h["seconds"]]
                for h in history]
        headers = ["epoch", "loss", "lr", "images", "seconds"]
        html.append(H.table(headers, rows))
        md += [H.md_table(headers, rows), "", f"![pre-training curves]({png.name})" if png_dir else "", ""]
    else:
        html.append('<p class="note">The pretrain stage has not run.</p>')
        md += ["The pretrain stage has not run.", ""]
    html.append("<h2>Transfer</h2>")
    md += ["## Transfer (top-1 %, mean ± std over seeds)", ""]
    if results and results.get("table"):
        fractions = sorted({k for row in results["table"] for k in row if k != "init"}, key=float, reverse=True)
        headers = ["init", *[f"{f} of train" for f in fractions]]
        rows = [[row["init"], *[format_cell(row.get(f)) for f in fractions]] for row in results["table"]]
        html += [f"<p>model <code>{H.esc(results['model'])}</code></p>", H.table(headers, rows)]
        md += [f"model: `{results['model']}`", "", H.md_table(headers, rows), ""]
    else:
        html.append('<p class="note">The transfer stage has not run.</p>')
        md += ["The transfer stage has not run.", ""]
    return "\n".join(html), "\n".join(md)


def _open(path: Path):
    from PIL import Image

    with Image.open(path) as im:
        return im.copy()


def format_cell(cell: dict | None) -> str:
    if not cell or cell.get("mean") is None:
        return "–"
    return f"{100 * cell['mean']:.1f} ± {100 * cell['std']:.1f}" if cell.get("n", 1) > 1 else f"{100 * cell['mean']:.1f}"


def write_setting_report(run_dir: str | Path) -> Path:
    """``<run_dir>/report-pretrain.md`` (+ ``pretrain_curves.png``), for ``synthrec pretrain`` / ``transfer``."""
    run_dir = Path(run_dir)
    _, md = pretrain_section(run_dir, png_dir=run_dir)
    path = run_dir / "report-pretrain.md"
    _io.write_text(path, f"# Pre-training and transfer: {run_dir.name}\n\n{md}\n")
    return path


# ------------------------------------------------------------------------------------------------ the glyph demo

def _cell(stats: dict | None) -> str:
    if not stats:
        return "–"
    return f"{100 * stats['mean']:.1f} ± {100 * stats['std']:.1f}"


def tables_markdown(summary: dict) -> str:
    fractions = [f"{f:g}" for f in summary["fractions"]]
    out = []
    for model, inits in summary["table"].items():
        out.append(f"**{model}** (top-1 % on the real test digits, mean ± std over {summary['seeds']} seed(s))\n")
        out.append("| pre-training | " + " | ".join(f"{f} of pool" for f in fractions) + " |")
        out.append("|" + "---|" * (len(fractions) + 1))
        for init, cells in inits.items():
            out.append(f"| {init} | " + " | ".join(_cell(cells.get(f)) for f in fractions) + " |")
        out.append("")
    return "\n".join(out)


def _get(summary: dict, model: str, init: str, fraction: str = "1") -> dict | None:
    return summary["table"].get(model, {}).get(init, {}).get(fraction)


def compare(summary: dict, a: tuple[str, str], b: tuple[str, str], fraction: str = "1") -> dict[str, Any] | None:
    """a better than b? 'holds' when the mean gap exceeds the larger spread, 'reversed' when it is below minus it."""
    sa, sb = _get(summary, *a, fraction), _get(summary, *b, fraction)
    if not sa or not sb:
        return None
    gap = sa["mean"] - sb["mean"]
    spread = max(sa["std"], sb["std"])
    verdict = "holds" if gap > spread else "reversed" if gap < -spread else "within the spread"
    return {"gap": gap, "spread": spread, "verdict": verdict,
            "text": f"{a[0]} {a[1]} {100 * sa['mean']:.1f} vs {b[0]} {b[1]} {100 * sb['mean']:.1f} "
                    f"(gap {100 * gap:+.1f}, spread {100 * spread:.1f}): {verdict}"}


CHECKS: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("1. more data helps (2x over 1x)", ("ResNet", "syn-aware 2x"), ("ResNet", "syn-aware 1x")),
    ("1. more data helps (4x over 2x; saturation = a smaller gain)", ("ResNet", "syn-aware 4x"),
     ("ResNet", "syn-aware 2x")),
    ("1. more data helps (ViT, agnostic 4x over 1x)", ("ViT", "syn-agnostic 4x"), ("ViT", "syn-agnostic 1x")),
    ("2. real init then synthetic beats real alone", ("ResNet", "real-agnostic 1x, then syn-aware 1x"),
     ("ResNet", "real-agnostic 1x")),
    ("2. real init then synthetic beats synthetic alone", ("ResNet", "real-agnostic 1x, then syn-aware 1x"),
     ("ResNet", "syn-aware 1x")),
    ("3. downstream-aware synthetic (2x) beats real agnostic pre-training", ("ResNet", "syn-aware 2x"),
     ("ResNet", "real-agnostic 1x")),
    ("3. downstream-aware synthetic (4x) beats real agnostic pre-training", ("ResNet", "syn-aware 4x"),
     ("ResNet", "real-agnostic 1x")),
    ("4. agnostic synthetic vs real agnostic, ResNet (paper: comparable)", ("ResNet", "syn-agnostic 1x"),
     ("ResNet", "real-agnostic 1x")),
    ("4. agnostic synthetic vs real agnostic, ViT (paper: comparable)", ("ViT", "syn-agnostic 1x"),
     ("ViT", "real-agnostic 1x")),
    ("4. self-supervised beats supervised", ("ResNet", "MoCo v2 syn-agnostic 1x"), ("ResNet", "syn-agnostic 1x")),
    ("4. ViT beats CNN", ("ViT", "syn-agnostic 1x"), ("ResNet", "syn-agnostic 1x")),
    ("any synthetic pre-training beats scratch", ("ResNet", "syn-aware 1x"), ("ResNet", "scratch")),
)


def conclusions(summary: dict) -> list[dict]:
    rows = []
    for title, a, b in CHECKS:
        for fraction in (f"{f:g}" for f in summary["fractions"]):
            got = compare(summary, a, b, fraction)
            if got:
                rows.append({"claim": title, "fraction": fraction, **got})
    return rows


def plot_curves(summary: dict, path: Path) -> list[Path]:
    """One PNG per backbone: the pre-training curves of seed 0."""
    return [plot_history(runs, path.with_name(f"{path.stem}-{model}.png"), title=f"{model}, seed 0")
            for model, runs in (summary.get("curves") or {}).items()]


def write_pretrain_demo_report(out: Path, summary: dict) -> Path:
    curves = plot_curves(summary, out / "pretrain_curves.png")
    checks = conclusions(summary)
    lines = ["# Pre-training on synthetic data, then transfer: the glyph world (the paper's Tables 8-11)", "",
             f"{summary['seeds']} seed(s), {summary['seconds']:.0f} s in all ({summary['set_seconds']:.0f} s "
             f"making the sets){' -- quick mode, not for conclusions' if summary['quick'] else ''}.", "",
             tables_markdown(summary), "## The paper's conclusions, checked (fine-tuning fraction in brackets)", ""]
    lines += [f"- [{c['fraction']} of pool] {c['claim']}: {c['text']}" for c in checks]
    if curves:
        lines += ["", "## Pre-training curves", ""] + [f"![pre-training curves]({p.name})" for p in curves]
    path = out / "report.md"
    _io.write_text(path, "\n".join(lines) + "\n")
    _io.write_json(out / "conclusions.json", checks)
    return path
