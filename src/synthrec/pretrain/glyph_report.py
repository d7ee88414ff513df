"""The pre-training demo's report: the transfer tables with their spread over seeds, the pre-training curves, and
the paper's four conclusions (METHOD.md §5.3) checked against this run's numbers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import _io


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
    from .curves import plot_history

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
