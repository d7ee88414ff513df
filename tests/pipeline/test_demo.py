"""`synthrec demo --quick` end to end from the shipped glyph-world weights."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from synthrec.cli.app import app
from synthrec.glyph import models, world


def _weights_present() -> bool:
    return all((models.weights_dir(n) / "README.md").is_file() for n in ("clip", "pipeline", "le"))


@pytest.mark.skipif(not _weights_present(), reason="glyph weights not trained yet (synthrec glyph train)")
def test_quick_demo_end_to_end(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--quick", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "report:" in res.output
    summary = json.loads((tmp_path / "demo" / "results.json").read_text())
    rows = summary["strategies"]
    assert list(rows) == ["zero-shot", "B", "B+SCE", "LE", "LE+SCE", "LE+CF", "LE+CF+SCE", "ceiling"]
    assert all(0.0 <= r["mean"] <= 1.0 for r in rows.values())
    # The baseline is the same zero-shot head in every run, so every run must report the same number.
    baselines = {round(v["baseline"], 6) for k, v in summary["per_seed"]["0"].items() if "baseline" in v}
    assert len(baselines) == 1
    html = (tmp_path / "demo" / "report.html").read_text()
    assert "Table 2 in the glyph world" in html and "data:image/png;base64," in html
    for name in ["B", "B_SCE", "LE", "LE_SCE", "LE_CF", "LE_CF_SCE"]:
        assert (tmp_path / "demo" / "seed0" / name / "report" / "report.html").is_file()
    import pyarrow.parquet as pq

    le = pq.read_table(tmp_path / "demo" / "seed0" / "LE" / "prompts" / "prompts.parquet").to_pylist()
    # the glyph world's domain goes before every LE sentence, as the paper's EuroSAT prefix does
    assert le and all(r["text"].startswith(world.LE_PREFIX + " ") for r in le if r["strategy"] == "le")


@pytest.mark.slow
@pytest.mark.skipif(not _weights_present(), reason="glyph weights not trained yet (synthrec glyph train)")
def test_quick_demo_ablations(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--quick", "--ablations", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    ab = json.loads((tmp_path / "demo" / "results.json").read_text())["ablations"]
    assert [r["setting"] for r in ab["tune"]] == ["head", "last_block, BN frozen", "last_block, BN not frozen",
                                                  "image_encoder, BN frozen", "image_encoder, BN not frozen"]
    shares = [r["tuned_share"] for r in ab["tune"]]
    assert shares[0] is None and 0 < shares[1] == shares[2] < shares[3] == shares[4] <= 1  # head: cached features
    caps = [r["cap"] for r in ab["data"]]
    assert caps == [5, 10, 20, 40, None]
    assert all(max(r["images_per_class"].values()) <= (r["cap"] or 10**9) for r in ab["data"])
    md = (tmp_path / "demo" / "report.md").read_text()
    assert "Ablation: tuning more than the head" in md and "Ablation: synthetic images per class" in md
