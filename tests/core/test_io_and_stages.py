import errno

import pytest

from synthrec import _io
from synthrec.errors import DiskFullError, RunFolderError
from synthrec.stages import markers as _stages


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.json"
    _io.write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with _io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert _io.read_json(target) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_disk_full_is_one_clear_line(tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io.os, "replace", full)
    with pytest.raises(DiskFullError, match="disk full"):
        _io.write_text(tmp_path / "x.txt", "data")
    assert not list(tmp_path.iterdir())


def test_stage_reuse_and_precious_refusal(tmp_path):
    folder = _stages.prepare(tmp_path, "generate", "k1", {"steps": 10}, precious=True)
    (folder / "images").mkdir()
    _stages.mark_done(tmp_path, "generate", "k1", {"steps": 10})
    assert _stages.is_done(tmp_path, "generate", "k1")
    with pytest.raises(RunFolderError, match="changed: steps"):
        _stages.prepare(tmp_path, "generate", "k2", {"steps": 20}, precious=True)
    assert (folder / "images").is_dir()
    _stages.prepare(tmp_path, "generate", "k2", {"steps": 20}, precious=True, overwrite=True)
    assert not (folder / "images").exists()


def test_unfinished_precious_stage_resumes_with_same_key(tmp_path):
    folder = _stages.prepare(tmp_path, "generate", "k1", {"steps": 10}, precious=True)
    (folder / "images").mkdir()
    _stages.prepare(tmp_path, "generate", "k1", {"steps": 10}, precious=True)  # same plan: resume, keep files
    assert (folder / "images").is_dir()
    with pytest.raises(RunFolderError):
        _stages.prepare(tmp_path, "generate", "k9", {"steps": 30}, precious=True)


def test_cheap_stage_reruns_when_settings_change(tmp_path):
    folder = _stages.prepare(tmp_path, "train", "a", {"lr": 1})
    (folder / "head.safetensors").write_bytes(b"x")
    _stages.mark_done(tmp_path, "train", "a", {"lr": 1})
    _stages.prepare(tmp_path, "train", "b", {"lr": 2})
    assert not (folder / "head.safetensors").exists()


def test_kept_cache_survives_a_settings_change(tmp_path):
    folder = _stages.prepare(tmp_path, "fewshot", "a", {"epochs": 1})
    (folder / "synthetic" / "rg-123").mkdir(parents=True)
    (folder / "results.json").write_text("{}")
    _stages.mark_done(tmp_path, "fewshot", "a", {"epochs": 1})
    _stages.prepare(tmp_path, "fewshot", "b", {"epochs": 2}, keep=("synthetic",))
    assert (folder / "synthetic" / "rg-123").is_dir() and not (folder / "results.json").exists()
