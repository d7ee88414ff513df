"""`synthrec run` end to end on tiny real backends (diffusers SD, open_clip, HF CLIP, T5), through the CLI."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from synthrec.cli.app import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _manifest_rows(run_dir):
    files = sorted((run_dir / "generate" / "manifest").glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def test_run_end_to_end_then_reuse_then_change(tmp_path, write_config):
    run_dir = tmp_path / "run"
    cfg = write_config(tmp_path / "cfg.yaml", run_dir)
    res = _run("run", cfg)
    assert res.exit_code == 0, res.output
    for f in ["config.yaml", "labels/labels.json", "prompts/prompts.parquet", "filter/scores.parquet",
              "filter/selection.parquet", "train/head.safetensors", "train/train.json", "evaluate/metrics.json",
              "report/report.html", "report/report.md"]:
        assert (run_dir / f).is_file(), f
    prompts = pq.read_table(run_dir / "prompts" / "prompts.parquet").to_pylist()
    assert {p["class_id"] for p in prompts} == {0, 1, 2}
    rows = _manifest_rows(run_dir)
    assert len(rows) == 2 * len(prompts) and len({r["image_id"] for r in rows}) == len(rows)
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    assert set(metrics["heads"]) == {"baseline", "tuned"} and metrics["n_images"] == 12
    html = (run_dir / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert "<h2>Results</h2>" in html and "<h2>Samples</h2>" in html and "http://" not in html

    # Again: every stage is reused, nothing is regenerated.
    gen_marker = (run_dir / "generate" / "stage.json").stat().st_mtime_ns
    train_marker = (run_dir / "train" / "stage.json").stat().st_mtime_ns
    res = _run("run", cfg)
    assert res.exit_code == 0, res.output
    assert (run_dir / "generate" / "stage.json").stat().st_mtime_ns == gen_marker
    assert (run_dir / "train" / "stage.json").stat().st_mtime_ns == train_marker

    # A training setting re-runs training and evaluation only.
    res = _run("run", cfg, "--set", "train.lr=0.01")
    assert res.exit_code == 0, res.output
    assert (run_dir / "generate" / "stage.json").stat().st_mtime_ns == gen_marker
    assert (run_dir / "train" / "stage.json").stat().st_mtime_ns != train_marker
    assert json.loads((run_dir / "train" / "train.json").read_text())["config"]["lr"] == 0.01

    # Tuning the encoder's last block trains on images and evaluates the tuned encoder (the paper's Table 3).
    head_only = json.loads((run_dir / "evaluate" / "metrics.json").read_text())["heads"]
    res = _run("run", cfg, "--set", "train.lr=0.01", "--set", "train.tune=last_block")
    assert res.exit_code == 0, res.output
    assert (run_dir / "generate" / "stage.json").stat().st_mtime_ns == gen_marker
    assert (run_dir / "train" / "image_tower.safetensors").is_file()
    tuned = json.loads((run_dir / "evaluate" / "metrics.json").read_text())["heads"]
    assert tuned["baseline"] == head_only["baseline"] and tuned["tuned"]["n"] == head_only["tuned"]["n"]
    assert json.loads((run_dir / "train" / "train.json").read_text())["meta"]["tuned_share"] > 0.01

    # A generation setting would discard finished images: refused with one line, images intact.
    res = _run("run", cfg, "--set", "generate.steps=3")
    assert res.exit_code == 1
    assert "different config" in res.output and "steps" in res.output
    assert "Traceback" not in res.output
    assert _manifest_rows(run_dir) == rows
    assert "steps: 2" in (run_dir / "config.yaml").read_text()  # the folder still describes what it holds


def test_two_runs_give_identical_manifests_and_prompts(tmp_path, write_config):
    outs = []
    for name in ["a", "b"]:
        cfg = write_config(tmp_path / f"{name}.yaml", tmp_path / name,
                           filter={"enabled": False}, evaluate=None)
        res = _run("prompts", cfg)
        assert res.exit_code == 0, res.output
        res = _run("generate", cfg)
        assert res.exit_code == 0, res.output
        rows = _manifest_rows(tmp_path / name)
        prompts = pq.read_table(tmp_path / name / "prompts" / "prompts.parquet").to_pylist()
        outs.append((rows, prompts))
    assert outs[0] == outs[1]


def test_stage_commands_need_their_inputs(tmp_path, write_config):
    cfg = write_config(tmp_path / "c.yaml", tmp_path / "r")
    res = _run("train", cfg)
    assert res.exit_code == 1 and "not finished" in res.output and "synthrec" in res.output


def test_hf_clip_filter_and_report_command(tmp_path, tiny_models, write_config):
    run_dir = tmp_path / "hf"
    cfg = write_config(tmp_path / "hf.yaml", run_dir,
                       prompts={"strategy": "basic", "template": "a photo of a {c}."},
                       filter={"encoder": tiny_models["hf_clip"], "per_class_cap": 1},
                       train={"encoder": tiny_models["hf_clip"], "epochs": 2})
    res = _run("run", cfg)
    assert res.exit_code == 0, res.output
    kept = pq.read_table(run_dir / "filter" / "selection.parquet").to_pylist()
    assert len(kept) <= 3
    res = _run("report", run_dir)
    assert res.exit_code == 0 and "report.html" in res.output
