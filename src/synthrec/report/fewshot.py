"""The few-shot report: accuracy against shots, one line per strategy with the spread over seeds, and the zero-shot
line; written as ``fewshot/report.html`` (self-contained) from ``fewshot/results.json`` alone.

:func:`fewshot_section` returns the same content as (html, markdown) so the run report can embed it.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

from .. import _io
from ..stages import stage_file
from . import html as H

log = logging.getLogger("synthrec")

ORDER = ("none", "B", "RF", "RG", "lora", "lora_RG", "textual_inversion", "textual_inversion_RG", "phase_syn_real",
         "phase_real_syn")
TITLES = {"none": "CT w. init (real shots only)", "B": "mix: real + B", "RF": "mix: real + RF",
          "RG": "mix: real + RG (CT w. Syn)", "lora": "mix: real + LoRA (DataDream)",
          "lora_RG": "mix: real + LoRA + RG", "textual_inversion": "mix: real + textual inversion (DA-Fusion)",
          "textual_inversion_RG": "mix: real + textual inversion + RG", "phase_syn_real": "phase-wise syn→real (RG)",
          "phase_real_syn": "phase-wise real→syn (RG)"}


def aggregate(results: dict) -> dict[str, dict[int, dict]]:
    """{strategy: {k: {"mean", "sd", "min", "max", "n"}}} of top-1 over seeds; sd is the sample sd (0 for n=1)."""
    acc: dict[str, dict[int, list[float]]] = {}
    for r in results.get("runs", []):
        if r.get("top1") is not None:
            acc.setdefault(r["strategy"], {}).setdefault(int(r["k"]), []).append(float(r["top1"]))
    out: dict[str, dict[int, dict]] = {}
    for s in sorted(acc, key=_rank):
        out[s] = {}
        for k, v in sorted(acc[s].items()):
            m = sum(v) / len(v)
            sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
            out[s][k] = {"mean": m, "sd": sd, "min": min(v), "max": max(v), "n": len(v)}
    return out


def _rank(s: str) -> int:
    return ORDER.index(s) if s in ORDER else len(ORDER)


def _cell(a: dict | None) -> str:
    if a is None:
        return "–"
    return f"{100 * a['mean']:.2f}" + (f" ± {100 * a['sd']:.2f}" if a["n"] > 1 else "")


def _curve(results: dict, agg: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    shots = sorted({k for d in agg.values() for k in d})
    for s, d in agg.items():
        ks = sorted(d)
        mean = [100 * d[k]["mean"] for k in ks]
        sd = [100 * d[k]["sd"] for k in ks]
        line = ax.errorbar(ks, mean, yerr=sd if any(sd) else None, marker="o", ms=4, capsize=3,
                           label=TITLES.get(s, s), ls="--" if s.startswith("phase") else "-")
        if any(sd):
            ax.fill_between(ks, [m - e for m, e in zip(mean, sd)], [m + e for m, e in zip(mean, sd)],
                            color=line[0].get_color(), alpha=0.12, lw=0)
    zs = (results.get("zero_shot") or {}).get("top1")
    if zs is not None:
        ax.axhline(100 * zs, color="#555", ls=":", lw=1.2, label=f"zero-shot CLIP ({100 * zs:.2f})")
    if shots:
        ax.set_xscale("log", base=2)
        ax.set_xticks(shots, [str(k) for k in shots])
    ax.set_xlabel("real shots per class")
    ax.set_ylabel("top-1 on the real test set (%)")
    seeds = sorted({r["seed"] for r in results.get("runs", [])})
    ax.set_title(f"Few-shot accuracy (mean ± sd over {len(seeds)} seed{'s' if len(seeds) != 1 else ''})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return H.img_tag(H.figure_data_uri(fig), "few-shot accuracy against shots")


def fewshot_section(run_dir: str | Path) -> tuple[str, str]:
    """(html, markdown) of the few-shot results in ``run_dir``; a note when there are none yet."""
    path = stage_file(run_dir, "fewshot", "results")
    try:
        results = _io.read_json(path)
    except (OSError, ValueError):
        note = "The few-shot stage has not run."
        return f"<h2>Few-shot</h2><p class=\"note\">{note}</p>", f"## Few-shot\n\n{note}\n"
    agg = aggregate(results)
    shots = sorted({k for d in agg.values() for k in d})
    headers = ["strategy", *[f"{k}-shot" for k in shots]]
    rows = [[TITLES.get(s, s), *[_cell(d.get(k)) for k in shots]] for s, d in agg.items()]
    zs = (results.get("zero_shot") or {}).get("top1")
    rows.append(["zero-shot CLIP", *[H.fmt_pct(zs)] * len(shots)])
    seeds = sorted({r["seed"] for r in results.get("runs", [])})
    test = results.get("test_set", {})
    intro = (f"Top-1 (%) on the real test set {H.esc(test.get('name', ''))} ({test.get('n', '?')} images), mean ± "
             f"sample sd over shot draws (seeds {', '.join(map(str, seeds))}). Each head is the final epoch's; "
             f"nothing is selected on the test set.")
    parts = [f"<h2>Few-shot</h2><p>{intro}</p>", _curve(results, agg), H.table(headers, rows)]
    md = ["## Few-shot", "", intro.replace("<", "&lt;"), "", H.md_table(headers, rows), ""]

    gains = _gains(agg)
    if gains:
        parts.append("<h3>Gain of synthetic data over real shots only (points)</h3>" + H.table(gains[0], gains[1]))
        md += ["### Gain over real shots only (points)", "", H.md_table(*gains), ""]
    rg = results.get("real_guidance")
    if rg:
        h = ["shots", "t*", "GLIDE step", "GLIDE ᾱ", "matched t", "ᾱ", "strength", "steps used", "start t", "start ᾱ"]
        r = [[",".join(map(str, x.get("shots", []))), x["t_star"], x["glide_step"], f"{x['glide_alpha_bar']:.4f}",
              x["timestep"], f"{x['alpha_bar']:.4f}", f"{x['strength']:.3f}", x.get("rg_steps", ""),
              x.get("rg_start_timestep", ""), _f4(x.get("rg_start_alpha_bar"))] for x in rg]
        parts.append("<h3>Real Guidance noise level</h3><p class=\"note\">t* of the paper's 100-step GLIDE chain, "
                     "matched by ᾱ to this generator's schedule (docs/fewshot.md).</p>" + H.table(h, r))
        md += ["### Real Guidance noise level", "", H.md_table(h, r), ""]
    rf = _rf_rows(results)
    if rf:
        h = ["shots", "seed", "B images", "kept by RF", "kept (%)"]
        parts.append("<h3>Real Filtering</h3><p class=\"note\">" + H.esc(results.get("real_filter_rule", ""))
                     + "</p>" + H.table(h, rf))
        md += ["### Real Filtering", "", H.md_table(h, rf), ""]
    per = _per_class_rows(results, agg)
    if per:
        parts.append(f"<h3>Per class at {per[0]} shots (mean top-1, %)</h3>" + H.table(per[1], per[2]))
    return "\n".join(parts), "\n".join(md)


def _gains(agg: dict) -> tuple[list, list] | None:
    base = agg.get("none")
    if not base:
        return None
    shots = sorted(base)
    rows = []
    for s, d in agg.items():
        if s == "none":
            continue
        rows.append([TITLES.get(s, s), *[f"{100 * (d[k]['mean'] - base[k]['mean']):+.2f}" if k in d else "–"
                                         for k in shots]])
    return (["strategy", *[f"{k}-shot" for k in shots]], rows) if rows else None


def _rf_rows(results: dict) -> list[list]:
    rows = []
    for r in results.get("runs", []):
        syn = r.get("synthetic") or {}
        if r["strategy"] == "RF" and "kept" in syn:
            rows.append([r["k"], r["seed"], syn["of"], syn["kept"], f"{100 * syn['kept'] / max(1, syn['of']):.1f}"])
    return rows


def _per_class_rows(results: dict, agg: dict):
    runs = results.get("runs", [])
    if not runs:
        return None
    kmax = max(int(r["k"]) for r in runs)
    names = results.get("classnames") or list(runs[0].get("per_class", {}))
    strategies = [s for s in agg if kmax in agg[s]]
    zs = (results.get("zero_shot") or {}).get("per_class", {})
    rows = []
    for n in names:
        row = [n, H.fmt_pct((zs.get(n) or {}).get("top1") if isinstance(zs.get(n), dict) else zs.get(n))]
        for s in strategies:
            vals = [r["per_class"].get(n) for r in runs if r["strategy"] == s and int(r["k"]) == kmax]
            vals = [v for v in vals if v is not None]
            row.append(H.fmt_pct(sum(vals) / len(vals)) if vals else "–")
        rows.append(row)
    return kmax, ["class", "zero-shot", *[TITLES.get(s, s) for s in strategies]], rows


def _f4(x) -> str:
    return "" if x is None else f"{x:.4f}"


def write_fewshot_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    body, md = fewshot_section(run_dir)
    title = f"synthrec few-shot: {run_dir.name}"
    out = stage_file(run_dir, "fewshot", "report")
    _io.write_text(out, H.page(title, f"<h1>{H.esc(title)}</h1>" + body))
    _io.write_text(out.with_suffix(".md"), f"# {title}\n\n{md}")
    return out
