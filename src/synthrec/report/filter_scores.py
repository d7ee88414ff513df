"""The CLIP filter's score histogram, with the threshold the filter actually applied (from ``filter.json``)."""
from __future__ import annotations

from pathlib import Path

from .. import _io
from ..stages import stage_file


def applied_threshold(run_dir: str | Path) -> float | None:
    """The threshold the run's filter used (the configured one, or 1/N when none was set); None when the filter
    was off or has not run."""
    value = (_io.read_json_or_none(stage_file(run_dir, "filter", "summary")) or {}).get("threshold")
    return float(value) if value is not None and value >= 0 else None


def score_histogram(ax, p_true: list[float], run_dir: str | Path) -> None:
    """Histogram of p(intended class) on ``ax``, with the applied threshold as a dashed line when there is one."""
    ax.hist(p_true, bins=40, range=(0, 1), color="#4477aa")
    threshold = applied_threshold(run_dir)
    if threshold is not None:
        ax.axvline(threshold, color="#cc3311", ls="--", label=f"threshold applied = {threshold:.3g}")
        ax.legend(fontsize=8)
