"""Issue 13 on a whole run: damaged generation repaired on reuse, refused changes touch nothing, stale temporaries
removed, and the CLI's one-line errors for file-system trouble."""
from __future__ import annotations

import errno
import json
import os

import pyarrow.parquet as pq
from typer.testing import CliRunner

from synthrec.cli.app import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_damaged_generation_is_remade_on_reuse_and_refused_changes_touch_nothing(tmp_path, write_config):
    run_dir = tmp_path / "run"
    cfg = write_config(tmp_path / "cfg.yaml", run_dir)
    assert _run("run", cfg).exit_code == 0
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    n_images = pq.read_table(run_dir / "filter" / "scores.parquet").num_rows
    tar = run_dir / "generate" / "images" / "shard-00001.tar"
    intact = tar.read_bytes()

    # 1. a truncated shard: `synthrec run` remakes it (byte for byte) and reruns the later stages
    os.truncate(tar, len(intact) // 3)
    res = _run("run", cfg)
    assert res.exit_code == 0, res.output
    assert tar.read_bytes() == intact
    assert pq.read_table(run_dir / "filter" / "scores.parquet").num_rows == n_images
    assert json.loads((run_dir / "evaluate" / "metrics.json").read_text()) == metrics
    res = _run("verify", run_dir)
    assert res.exit_code == 0 and res.output.startswith("ok:"), res.output

    # 8. temporaries left by kills are removed by the next run (which holds the folder's lock)
    leaks = [run_dir / "evaluate" / ".stage.pending.json.x1.tmp",
             next((run_dir / "features").iterdir()) / ".encoder.json.x2.tmp"]
    for p in leaks:
        p.write_text("{")
    assert _run("run", cfg).exit_code == 0
    assert not any(p.exists() for p in leaks)

    # 8. a refused generation change leaves every file, prompts included, as it was
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith(".")}
    changed = write_config(tmp_path / "cfg2.yaml", run_dir, generate={"steps": 3},
                           prompts={"per_class": 3})
    res = _run("run", changed)
    assert res.exit_code == 1 and "different config" in res.output and "Traceback" not in res.output
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert after == before

    # 8. safetensors outputs get the same permissions as every other output
    mode = (run_dir / "train" / "head.safetensors").stat().st_mode & 0o777
    assert mode == (run_dir / "train" / "train.json").stat().st_mode & 0o777


def test_read_only_and_full_disks_are_one_line(tmp_path, write_config, monkeypatch):
    import synthrec.api as api

    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "run")
    for code, words in ((errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied"),
                        (errno.ENOSPC, "disk full")):
        def boom(*a, **k):
            raise OSError(code, os.strerror(code), str(tmp_path / "run" / "config.yaml"))

        monkeypatch.setattr(api, "run", boom)
        monkeypatch.setattr(api, "run_report", boom)
        for args in (("run", cfg), ("report", tmp_path / "run")):
            res = _run(*args)
            assert res.exit_code == 1 and words in res.output, res.output
            assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_read_only_run_folder_refused_by_the_lock_in_one_line(tmp_path, monkeypatch):
    from synthrec import _lock
    from synthrec.errors import RunFolderError

    real_open = os.open

    def read_only(path, *a, **k):
        if str(path).endswith(_lock.LOCK_FILE):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(_lock.os, "open", read_only)
    try:
        with _lock.folder_lock(tmp_path):
            pass
    except RunFolderError as exc:
        assert "Read-only file system" in str(exc) and "writable" in str(exc)
    else:
        raise AssertionError("no error")


def test_dangling_symlink_as_run_dir(tmp_path, write_config):
    link = tmp_path / "run"
    link.symlink_to(tmp_path / "nowhere")
    res = _run("run", write_config(tmp_path / "cfg.yaml", link))
    assert res.exit_code == 1 and "symlink" in res.output and "Traceback" not in res.output
