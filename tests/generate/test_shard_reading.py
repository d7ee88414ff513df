"""Reading images out of shard tars: one index per shard for the whole process, rebuilt when the shard is remade."""
import os

import numpy as np
from PIL import Image

from synthrec.generate import iter_images, load_image, read_manifest
from synthrec.generate import manifest as manifest_module
from synthrec.generate.backends.base import GenerationOutput, Generator
from synthrec.generate.plan import Shard, WorkUnit
from synthrec.generate.shards import ShardJob, make_shard


class SolidGenerator(Generator):
    generator_id = "test:solid"
    settings = {"kind": "solid"}

    def __init__(self, offset=0):
        self.offset = offset

    def text_to_image(self, prompts, seeds):
        return GenerationOutput([Image.new("L", (8, 8), (s * 7 + self.offset) % 256) for s in seeds], list(seeds))


def _make(folder, offset=0, n=6):
    units = tuple(WorkUnit(i % 2, i, 0, f"p{i}", seed=i) for i in range(n))
    make_shard(SolidGenerator(offset), ShardJob(str(folder), "test:solid", {}, batch_size=4), Shard(0, units))


def test_one_index_per_shard_serves_every_read(tmp_path, monkeypatch):
    _make(tmp_path)
    opened = []
    real_open, real_scan = manifest_module.tarfile.open, manifest_module._plain_ustar_index
    monkeypatch.setattr(manifest_module.tarfile, "open", lambda *a, **kw: opened.append(1) or real_open(*a, **kw))
    monkeypatch.setattr(manifest_module, "_plain_ustar_index", lambda fd: opened.append(1) or real_scan(fd))
    rows = read_manifest(tmp_path).to_pylist()
    images = [load_image(tmp_path, r) for r in rows] + [im for _, im in iter_images(tmp_path)]
    assert len(opened) == 1  # 12 reads, one header scan (the writer's plain tar needs no tarfile)
    assert [np.asarray(im)[0, 0] for im in images[:6]] == [(s * 7) % 256 for s in range(6)]


def test_a_remade_shard_is_indexed_again(tmp_path):
    _make(tmp_path)
    row = read_manifest(tmp_path).to_pylist()[3]
    assert np.asarray(load_image(tmp_path, row))[0, 0] == 21
    tar = tmp_path / row["path"]
    before = os.stat(tar).st_mtime_ns
    _make(tmp_path, offset=100, n=5)  # other images, other member offsets
    os.utime(tar, ns=(before + 10**9, before + 10**9))
    row = read_manifest(tmp_path).to_pylist()[3]
    assert np.asarray(load_image(tmp_path, row))[0, 0] == 121


def _tarfile_index(path):
    import tarfile

    with tarfile.open(path) as tar:
        return {m.name.partition(".")[0]: (m.offset_data, m.size) for m in tar
                if m.isreg() and m.name.partition(".")[2] in manifest_module.IMAGE_EXTS}


def test_fast_header_scan_matches_tarfile_and_leaves_other_tars_to_it(tmp_path):
    import io
    import tarfile

    _make(tmp_path)
    shard = next((tmp_path / "images").glob("*.tar"))
    fd = os.open(shard, os.O_RDONLY)
    try:
        assert manifest_module._plain_ustar_index(fd) == _tarfile_index(shard) != {}
    finally:
        os.close(fd)
    # A pax header (a long, non-ASCII name) is not the writer's plain layout: the scan declines, tarfile indexes it.
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("a.png", "é" * 120 + ".png", "z.png"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    fd = os.open(other, os.O_RDONLY)
    try:
        assert manifest_module._plain_ustar_index(fd) is None
        assert manifest_module._INDEXES.get(other, fd) == _tarfile_index(other)
    finally:
        os.close(fd)
