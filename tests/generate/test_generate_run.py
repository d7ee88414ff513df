"""generate(): shards, manifests, determinism, resume, crash safety, formats, plan checks, Real Guidance."""
from __future__ import annotations

import errno
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthrec.errors import ConfigError, RunFolderError
from synthrec.generate import (MANIFEST_COLUMNS, RealGuidance, generate, iter_images, load_image, read_manifest)
from synthrec.generate.backends.base import Generator


LOCKS = (".synthrec.lock", ".workers.lock")  # hold the pid of their last holder, not data


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in LOCKS}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_generator, tiny_sd_path):
    """One uninterrupted run that the other tests compare against."""
    import pyarrow as pa

    from synthrec.config.schema import GenerateConfig

    prompts = pa.table({"class_id": [0, 0, 1], "prompt_id": [10, 11, 20], "text": ["a dog", "a puppy", "a cat"],
                        "strategy": ["basic"] * 3, "seed": [0] * 3})
    cfg = GenerateConfig(generator=tiny_sd_path, images_per_prompt=2, steps=2, guidance_scale=3.0, shard_size=2,
                         batch_size=2, device="cpu")
    out = tmp_path_factory.mktemp("reference")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the tests that compare with it: plan.json records the thread count
    try:
        result = generate(prompts, cfg, out, run_seed=3, generator=tiny_generator, progress=False)
    finally:
        torch.set_num_threads(before)
    return out, result


def test_webdataset_shards_and_manifest(reference):
    out, result = reference
    assert result.complete and result.num_shards == 3 and result.num_images == 6 and result.shards_made == [0, 1, 2]
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"shard-0000{i}.tar" for i in range(3)]
    assert sorted(p.name for p in (out / "manifest").iterdir()) == [f"shard-0000{i}.parquet" for i in range(3)]
    assert (out / "plan.json").is_file()
    table = read_manifest(out)
    assert table.column_names == [c[0] for c in MANIFEST_COLUMNS]
    rows = table.to_pylist()
    assert [r["shard_id"] for r in rows] == [0, 0, 1, 1, 2, 2]
    assert len({r["image_id"] for r in rows}) == 6
    assert all(r["width"] == r["height"] == 16 and r["source_shot"] is None for r in rows)
    import webdataset as wds

    samples = list(wds.WebDataset(str(out / "images" / "shard-00000.tar"), shardshuffle=False))
    assert [s["__key__"] for s in samples] == [r["key"] for r in rows[:2]]
    assert set(samples[0]) >= {"png", "json", "txt"} and samples[0]["txt"].decode() == rows[0]["prompt"]
    images = list(iter_images(out))
    assert [r["image_id"] for r, _ in images] == [r["image_id"] for r in rows]
    assert np.array_equal(np.asarray(images[3][1]), np.asarray(load_image(out, rows[3])))


def test_same_config_gives_identical_files(reference, tmp_path, prompts, make_cfg, tiny_generator):
    out, _ = reference
    generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, progress=False)
    assert _files(tmp_path) == _files(out)  # manifests, tars and plan, byte for byte


def test_resume_after_stop_matches_uninterrupted_run(reference, tmp_path, prompts, make_cfg, tiny_generator):
    out, _ = reference
    first = generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, stop_after_shards=1,
                     progress=False)
    assert first.shards_made == [0] and not first.complete and read_manifest(tmp_path).num_rows == 2
    done = [tmp_path / "images" / "shard-00000.tar", tmp_path / "manifest" / "shard-00000.parquet"]
    mtimes = [p.stat().st_mtime_ns for p in done]
    second = generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, progress=False)
    assert second.shards_skipped == [0] and second.shards_made == [1, 2] and second.complete
    assert [p.stat().st_mtime_ns for p in done] == mtimes  # complete shards untouched
    assert _files(tmp_path) == _files(out)
    ids = read_manifest(tmp_path).column("image_id").to_pylist()
    assert len(ids) == len(set(ids)) == 6


def test_partial_tar_without_manifest_is_redone(reference, tmp_path, prompts, make_cfg, tiny_generator):
    out, _ = reference
    generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, stop_after_shards=1,
             progress=False)
    (tmp_path / "images" / "shard-00001.tar").write_bytes(b"half a tar")      # a crash after the rename...
    (tmp_path / "images" / ".shard-00002.tar.x1y2.tmp").write_bytes(b"junk")   # ...and one before it
    assert read_manifest(tmp_path).num_rows == 2  # readers see complete shards only
    generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, progress=False)
    assert _files(tmp_path) == _files(out)


class _Interrupting(Generator):
    """Wraps a generator and presses Ctrl-C on its n-th call."""

    def __init__(self, inner, n):
        self.inner, self.n = inner, n
        self.generator_id, self.settings = inner.generator_id, inner.settings

    def text_to_image(self, prompts, seeds):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt
        return self.inner.text_to_image(prompts, seeds)


def test_ctrl_c_keeps_finished_shards(reference, tmp_path, prompts, make_cfg, tiny_generator):
    out, _ = reference
    with pytest.raises(KeyboardInterrupt):
        # Shard 0 is one batch of 2; Ctrl-C comes in shard 1's first batch.
        generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=_Interrupting(tiny_generator, 2),
                 progress=False)
    assert sorted(p.name for p in (tmp_path / "manifest").iterdir()) == ["shard-00000.parquet"]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["shard-00000.tar"]  # no temp file left
    generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, progress=False)
    assert _files(tmp_path) == _files(out)


class _DiskFull(_Interrupting):
    def text_to_image(self, prompts, seeds):
        self.n -= 1
        if self.n == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.inner.text_to_image(prompts, seeds)


def test_disk_full_stops_cleanly(reference, tmp_path, prompts, make_cfg, tiny_generator):
    from synthrec.errors import DiskFullError

    out, _ = reference
    with pytest.raises(DiskFullError, match="disk full.*finished files are intact"):
        generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=_DiskFull(tiny_generator, 2), progress=False)
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["shard-00000.tar"]
    assert read_manifest(tmp_path).num_rows == 2
    generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, progress=False)
    assert _files(tmp_path) == _files(out)


def test_changed_plan_is_refused_unless_overwrite(tmp_path, prompts, make_cfg, tiny_generator):
    generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, stop_after_shards=1,
             progress=False)
    with pytest.raises(RunFolderError, match=r"setting 'images_per_prompt' changed from 2 to 1.*overwrite=True") as e:
        generate(prompts, make_cfg(images_per_prompt=1), tmp_path, run_seed=3, generator=tiny_generator,
                 progress=False)
    assert "\n" not in str(e.value)
    with pytest.raises(RunFolderError, match="'run_seed' changed from 3 to 4"):
        generate(prompts, make_cfg(), tmp_path, run_seed=4, generator=tiny_generator, progress=False)
    # Batch size does not change the plan (images do not depend on it): resuming with another one is allowed.
    generate(prompts, make_cfg(batch_size=1), tmp_path, run_seed=3, generator=tiny_generator, stop_after_shards=0,
             progress=False)
    r = generate(prompts, make_cfg(images_per_prompt=1), tmp_path, run_seed=3, generator=tiny_generator,
                 overwrite=True, progress=False)
    assert r.complete and read_manifest(tmp_path).num_rows == 3


def test_generator_must_match_config(tmp_path, prompts, make_cfg, tiny_generator):
    with pytest.raises(ConfigError, match="steps=2 but the config says 5"):
        generate(prompts, make_cfg(steps=5), tmp_path, generator=tiny_generator, progress=False)


def test_imagefolder_format(tmp_path, prompts, make_cfg, tiny_generator):
    r = generate(prompts, make_cfg(format="imagefolder", image_format="jpg"), tmp_path, generator=tiny_generator,
                 labels=["dog", "cat/kitten"], progress=False)
    assert r.complete
    folders = sorted(p.name for p in (tmp_path / "images").iterdir())
    assert folders == ["000_dog", "001_cat_kitten"]
    rows = read_manifest(tmp_path).to_pylist()
    assert sorted(p.name for p in (tmp_path / "images" / "001_cat_kitten").iterdir()) == \
        [f"{r['image_id']}.jpg" for r in rows if r["class_id"] == 1]
    got = list(iter_images(tmp_path))
    assert len(got) == 6 and all(im.format == "JPEG" and im.size == (16, 16) for _, im in got)


def test_corrupt_image_is_reported_and_skipped(tmp_path, prompts, make_cfg, tiny_generator, caplog):
    generate(prompts, make_cfg(format="imagefolder"), tmp_path, generator=tiny_generator, progress=False)
    rows = read_manifest(tmp_path).to_pylist()
    victim = tmp_path / rows[1]["path"]
    victim.write_bytes(victim.read_bytes()[:40])
    with caplog.at_level(logging.WARNING):
        got = [r["image_id"] for r, _ in iter_images(tmp_path)]
    assert rows[1]["image_id"] not in got and len(got) == 5
    assert rows[1]["image_id"] in caplog.text and "run generate again" in caplog.text
    from synthrec.errors import DataError

    with pytest.raises(DataError, match="sha256"):
        list(iter_images(tmp_path, errors="raise"))


def test_real_guidance_records_source_shots(tmp_path, prompts, make_cfg, tiny_generator):
    rng = np.random.default_rng(0)
    shots = {}
    for cid in (0, 1):
        shots[cid] = []
        for k in range(2):
            p = tmp_path / "shots" / f"{cid}_{k}.png"
            p.parent.mkdir(exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(p)
            shots[cid].append(str(p))
    out = tmp_path / "rg"
    generate(prompts, make_cfg(), out, generator=tiny_generator, init_images=RealGuidance(shots, strength=0.5),
             progress=False)
    rows = read_manifest(out).to_pylist()
    assert all(r["source_shot"] in shots[r["class_id"]] and r["strength"] == 0.5 for r in rows)
    assert [r["source_shot"] for r in rows if r["class_id"] == 1] == shots[1]
    # Another strength is another plan.
    with pytest.raises(RunFolderError, match="real_guidance"):
        generate(prompts, make_cfg(), out, generator=tiny_generator,
                 init_images=RealGuidance(shots, strength=1.0), progress=False)


@pytest.mark.slow
def test_local_executor_with_spawned_workers(reference, tmp_path, prompts, make_cfg):
    """Two spawned CPU workers (the multi-GPU code path) write the same files as one in-process run."""
    out, _ = reference
    r = generate(prompts, make_cfg(num_workers=2), tmp_path, run_seed=3, progress=False)
    assert r.complete and r.shards_made == [0, 1, 2]
    assert _files(tmp_path) == _files(out)


def test_ray_executor_without_ray_is_one_clear_error(tmp_path, prompts, make_cfg, monkeypatch):
    # Ray itself runs in tests/generate/test_ray_executor.py (slow: it starts a local cluster).
    import sys

    from synthrec.errors import RayUnavailableError

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(RayUnavailableError, match=r"pip install 'synthrec\[ray\]'"):
        generate(prompts, make_cfg(executor="ray"), tmp_path, progress=False)
    assert not (tmp_path / "plan.json").exists()


class _SafetyChecked(Generator):
    """A pipeline whose safety checker blacks out every image of the prompt "a cat", as diffusers' does."""

    def __init__(self, inner):
        self.inner = inner
        self.generator_id, self.settings = inner.generator_id, inner.settings

    def text_to_image(self, prompts, seeds):
        from synthrec.generate import GenerationOutput

        out = self.inner.text_to_image(prompts, seeds)
        flags = [p == "a cat" for p in prompts]
        images = [Image.new("RGB", im.size) if f else im for im, f in zip(out.images, flags)]
        return GenerationOutput(images=images, seeds=out.seeds, meta={"nsfw_content_detected": flags})


def test_safety_checker_blacked_images_are_flagged_and_left_out(tmp_path, prompts, make_cfg, tiny_generator):
    from synthrec.generate import generated_items
    from synthrec.report.gallery import read_manifest_or_none
    from synthrec.report.run_report import _data_section

    out = tmp_path / "generate"
    generate(prompts, make_cfg(), out, run_seed=3, generator=_SafetyChecked(tiny_generator), progress=False)
    rows = read_manifest(out).to_pylist()
    assert [r["blacked_out"] for r in rows] == [r["prompt"] == "a cat" for r in rows] and any(
        r["blacked_out"] for r in rows)
    items = generated_items(out)
    assert sorted(it.image_id for it in items) == sorted(r["image_id"] for r in rows if not r["blacked_out"])
    _, md = _data_section(tmp_path, read_manifest_or_none(tmp_path), None, None)
    assert "| blacked out by the safety checker (left out of filter and training) | 2 |" in md


def test_a_manifest_from_before_the_safety_flag_reads_as_not_blacked_out(reference, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    out, _ = reference
    old = tmp_path / "old"
    shutil.copytree(out, old)
    for path in (old / "manifest").glob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["blacked_out"]), path)
    table = read_manifest(old)
    assert table.column_names == [c[0] for c in MANIFEST_COLUMNS] and not any(table.column("blacked_out").to_pylist())
