"""The report's gallery (kept and rejected images per class, with the filter's guess) and its export links."""
from __future__ import annotations

import os

import pyarrow.parquet as pq
from typer.testing import CliRunner

from synthrec.cli.app import app

runner = CliRunner()


def test_report_shows_kept_and_rejected_per_class_and_links_exports(finished_run, tmp_path):
    out = tmp_path / "exported-pq"
    assert runner.invoke(app, ["export", str(finished_run), "-f", "parquet", "-o", str(out)]).exit_code == 0
    res = runner.invoke(app, ["report", str(finished_run)])
    assert res.exit_code == 0, res.output
    html = (finished_run / "report" / "report.html").read_text()
    md = (finished_run / "report" / "report.md").read_text()
    scores = pq.read_table(finished_run / "filter" / "scores.parquet").to_pylist()
    names = ["bird", "cat", "dog"]
    for cid, name in enumerate(names):
        kept = sum(1 for s in scores if s["class_id"] == cid and s["kept"])
        rejected = sum(1 for s in scores if s["class_id"] == cid and not s["kept"] and not s["duplicate"])
        assert f"<h3>{name}: {kept} kept, {rejected} rejected</h3>" in html
    for s in scores:
        if not s["kept"] and not s["duplicate"]:
            assert f"→ {s['argmax_name']} ({s['p_true']:.2f})" in html  # the class the filter thought
            assert s["argmax_name"] == names[s["argmax"]]
    href = os.path.relpath(out.resolve(), (finished_run / "report").resolve())
    assert f'<a href="{href}">' in html and "parquet:" in html
    assert "## Exports" in md and str(out.resolve()) in md
    assert "http://" not in html
