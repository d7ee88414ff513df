"""Issue 13: hostile or broken inputs give one line, never a traceback or an exhausted machine."""
from __future__ import annotations

import gc
import sys

import pytest
import torch
from PIL import Image

from synthrec.config import load_config
from synthrec.errors import ConfigError, LabelSpaceError

ALIAS_BOMB = """
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
run_dir: runs/x
labels: {names: *h}
"""


@pytest.mark.timeout(20)
def test_yaml_alias_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    with pytest.raises(ConfigError, match="expands to more than"):
        load_config(path)


@pytest.mark.timeout(20)
def test_unbounded_invalid_value_is_not_formatted(tmp_path):
    # A 10**6-long value just under the alias bound would be fine to validate; its message must stay short.
    path = tmp_path / "big.yaml"
    path.write_text("run_dir: [" + ", ".join(["1"] * 50_000) + "]\nlabels: {names: [a, b]}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert len(str(err.value)) < 300


def test_non_utf8_config_and_labels_are_one_line(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_bytes(b"run_dir: runs/\xff\xfe\nlabels: {names: [a, b]}\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(cfg)
    from synthrec.labels import LabelSpace

    names = tmp_path / "classes.txt"
    names.write_bytes(b"cat\n\xffdog\n")
    with pytest.raises(LabelSpaceError, match="not UTF-8"):
        LabelSpace.from_file(names)


def test_symlink_loop_in_an_image_folder_is_walked_once(tmp_path):
    from synthrec.datasets.folder import list_images

    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(3):
            Image.new("RGB", (4, 4)).save(tmp_path / c / f"{i}.png")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    assert len(list_images(tmp_path)) == 6


def test_report_markdown_escapes_class_names():
    from synthrec.report.html import md_table

    table = md_table(["class", "top-1"], [["a|b <script>x</script>", 1.0]])
    row = table.splitlines()[2]
    assert row.count(" | ") == 1 and "<script>" not in row


def test_nan_in_cached_features_is_found_named_and_rebuilt(tmp_path, caplog):
    from safetensors.torch import save_file

    from synthrec.features import encode_with_cache, image_sha256
    from synthrec.features.cache import InMemoryImage
    from synthrec.testing.tiny_clip import ColourEncoder

    images = [Image.new("RGB", (6, 6), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    items = [(image_sha256(im), InMemoryImage(im)) for im in images]
    good = encode_with_cache(ColourEncoder(), items, tmp_path)
    chunk = next((tmp_path / ColourEncoder().fingerprint[:32]).glob("chunk-*.safetensors"))
    save_file({"features": torch.full_like(good, float("nan"))}, str(chunk))
    enc = ColourEncoder()
    with caplog.at_level("WARNING"):
        again = encode_with_cache(enc, items, tmp_path)
    assert torch.equal(again, good) and enc.n_encoded == 3
    assert chunk.name in caplog.text


def test_safetensors_outputs_get_the_usual_permissions(tmp_path):
    from synthrec._io import _UMASK
    from synthrec.features import encode_with_cache, image_sha256
    from synthrec.features.cache import InMemoryImage
    from synthrec.testing.tiny_clip import ColourEncoder

    im = Image.new("RGB", (6, 6), (1, 2, 3))
    encode_with_cache(ColourEncoder(), [(image_sha256(im), InMemoryImage(im))], tmp_path)
    chunk = next(tmp_path.rglob("chunk-*.safetensors"))
    assert chunk.stat().st_mode & 0o777 == 0o666 & ~_UMASK


def test_disk_full_in_the_feature_cache_is_one_line(tmp_path, monkeypatch):
    import safetensors.torch

    from synthrec._io import DiskFullError
    from synthrec.features import encode_with_cache, image_sha256
    from synthrec.features.cache import InMemoryImage
    from synthrec.testing.tiny_clip import ColourEncoder
    from safetensors import SafetensorError

    def full(*a, **k):
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: '
                              '"No space left on device" })')

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    im = Image.new("RGB", (6, 6), (1, 2, 3))
    with pytest.raises(DiskFullError, match="disk full while writing"):
        encode_with_cache(ColourEncoder(), [(image_sha256(im), InMemoryImage(im))], tmp_path)


def test_disk_full_mid_shard_leaves_no_unraisable_exception(tmp_path, monkeypatch):
    import errno
    import os

    import pyarrow as pa

    from synthrec._io import DiskFullError
    from synthrec.generate.backends.base import GenerationOutput, Generator
    from synthrec.generate.plan import WorkPlan
    from synthrec.generate.shards import ShardJob, make_shard

    class FillsTheDisk(Generator):
        generator_id, settings, calls = "fake", {}, 0

        def text_to_image(self, prompts, seeds):
            self.calls += 1
            if self.calls == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return GenerationOutput([Image.new("RGB", (8, 8), (s % 255, 0, 0)) for s in seeds], list(seeds))

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    plan = WorkPlan(pa.table({"class_id": [0], "prompt_id": [1], "text": ["x"]}), 4, 0, 4)
    job = ShardJob(out_dir=str(tmp_path), generator_spec="fake", generator_kwargs={}, batch_size=2)
    with pytest.raises(DiskFullError):
        make_shard(FillsTheDisk(), job, plan.shard(0))
    gc.collect()
    assert not unraisable
