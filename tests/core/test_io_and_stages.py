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


def test_safetensors_with_metadata_have_the_same_bytes_every_time(tmp_path):
    # safetensors 0.8 writes its metadata map in a random order per save (its issue #584): a resumed run's head
    # differed from an uninterrupted run's in the crash campaign although every number was equal.
    import torch
    from safetensors import safe_open

    from synthrec.train.head import ClassifierHead

    meta = {f"key{i}": f"value {i} ünï \"quoted\" \t tab" for i in range(12)}
    tensors = {"b": torch.arange(6.0).reshape(2, 3), "a": torch.ones(4, dtype=torch.float16)}
    saved = set()
    for i in range(6):
        _io.write_safetensors(tmp_path / f"{i}.safetensors", tensors, metadata=meta)
        saved.add((tmp_path / f"{i}.safetensors").read_bytes())
    assert len(saved) == 1
    with safe_open(str(tmp_path / "0.safetensors"), framework="pt") as fh:
        assert fh.metadata() == meta
        assert torch.equal(fh.get_tensor("b"), tensors["b"]) and torch.equal(fh.get_tensor("a"), tensors["a"])

    head = ClassifierHead.from_weights(torch.randn(3, 5), meta={"classnames": ["a", "b", "c"], "templates": ["{c}"],
                                                                "encoder_id": "x", "encoder_spec": "y"})
    heads = set()
    for i in range(6):
        head.save(tmp_path / f"head{i}")
        heads.add((tmp_path / f"head{i}" / "head.safetensors").read_bytes())
    assert len(heads) == 1
    assert ClassifierHead.load(tmp_path / "head0" / "head.safetensors").meta["classnames"] == ["a", "b", "c"]
