import json

import pytest

from synthrec.report.fewshot import aggregate, fewshot_section, write_fewshot_report


def _results():
    runs = []
    for k, base in ((1, 0.5), (4, 0.7)):
        for seed, d in ((0, 0.0), (1, 0.1)):
            runs.append({"k": k, "seed": seed, "strategy": "none", "top1": base + d, "per_class": {"a": 1.0, "b": 0.0}})
            runs.append({"k": k, "seed": seed, "strategy": "RG", "top1": base + d + 0.05,
                         "per_class": {"a": 1.0, "b": 0.5}})
    runs.append({"k": 1, "seed": 0, "strategy": "RF", "top1": None, "per_class": {}, "skipped": "RF left none"})
    return {"zero_shot": {"top1": 0.4, "per_class": {"a": {"top1": 0.8}, "b": {"top1": 0.0}}}, "runs": runs,
            "classnames": ["a", "b"], "test_set": {"name": "t", "n": 10}}


def test_aggregate_mean_and_sample_sd():
    agg = aggregate(_results())
    assert list(agg) == ["none", "RG"]  # paper order; a strategy with only skipped runs has no line
    assert agg["RG"][1]["mean"] == pytest.approx(0.6) and agg["RG"][1]["n"] == 2
    assert agg["none"][4]["sd"] == pytest.approx(0.0707107, abs=1e-6)


def test_report_is_self_contained(tmp_path):
    html, md = fewshot_section(tmp_path)
    assert "has not run" in html
    (tmp_path / "fewshot").mkdir()
    (tmp_path / "fewshot" / "results.json").write_text(json.dumps(_results()))
    path = write_fewshot_report(tmp_path)
    text = path.read_text()
    assert "data:image/png;base64," in text and "<script" not in text and "http" not in text.split("<body>")[1]
    assert "60.00 ± 7.07" in text and "+5.00" in text and "zero-shot CLIP" in text
