"""CLI-wide behaviour: --version, --quiet, --log-level, logs on stderr and results on stdout, python -m synthrec,
readable help, and `synthrec init` from the configs bundled in the package."""
from __future__ import annotations

import os
import subprocess
import sys

import yaml
from typer.testing import CliRunner

import synthrec
from synthrec.cli.app import app

runner = CliRunner()


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_version_and_python_dash_m():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"synthrec {synthrec.__version__}"
    out = subprocess.run([sys.executable, "-m", "synthrec", "--version"], capture_output=True, text=True,
                         env=_env(), timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"synthrec {synthrec.__version__}"


def test_logs_go_to_stderr_results_to_stdout_and_quiet_silences_them(tmp_path):
    cfg = {"run_dir": str(tmp_path / "run"), "labels": {"names": ["cat", "dog"]},
           "generate": {"generator": "glyph"}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["prompts", str(path)])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == f"prompts: {tmp_path / 'run' / 'prompts'}"
    assert "prompts: running" in res.stderr
    res = runner.invoke(app, ["--quiet", "prompts", str(path)])
    assert res.exit_code == 0 and res.stderr.strip() == "" and res.stdout.strip().startswith("prompts:")
    res = runner.invoke(app, ["--log-level", "debug", "prompts", str(path)])
    assert res.exit_code == 0 and "up to date" in res.stderr
    res = runner.invoke(app, ["--log-level", "loud", "prompts", str(path)])
    assert res.exit_code == 2 and "loud" in res.output


def test_help_shows_readable_metavars():
    res = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "100"})
    assert res.exit_code == 0
    assert "<bool>" not in res.output and "<list[str]>" not in res.output
    assert "CONFIG" in res.output and "KEY=VALUE" in res.output


def test_init_writes_a_bundled_config_that_checks(tmp_path):
    res = runner.invoke(app, ["init", "--list"])
    assert res.exit_code == 0 and "glyph_zeroshot" in res.stdout
    out = tmp_path / "mine.yaml"
    res = runner.invoke(app, ["init", "--template", "glyph_zeroshot", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out)
    data = yaml.safe_load(out.read_text())
    assert data["generate"]["generator"] == "glyph"
    res = runner.invoke(app, ["init", "--template", "glyph_zeroshot", "--out", str(out)])
    assert res.exit_code == 1 and "already exists" in res.output
    res = runner.invoke(app, ["init", "--template", "nope", "--out", str(tmp_path / "x.yaml")])
    assert res.exit_code == 1 and "glyph_zeroshot" in res.output
    res = runner.invoke(app, ["check", str(out), "--set", f"run_dir={tmp_path / 'r'}"])
    assert res.exit_code == 0, res.output
