"""Synthetic pre-training sets through the sharded generator: label spaces, sizes in chunks, recorded draws."""
from __future__ import annotations

import pytest

from synthrec.errors import LabelSpaceError
from synthrec.pretrain import ExtraClassesConfig, SetConfig
from synthrec.pretrain.data import open_set
from synthrec.pretrain.sets import build_set, case_groups, draw_extra_classes


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory) -> str:
    from synthrec.testing.tiny_sd import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("sd") / "pipe", seed=0, sample_size=8, layers_per_block=1)


def _cfg(tiny_sd, names, images, extra=None):
    return SetConfig.model_validate({
        "labels": {"names": names}, "images": images, "chunk_images": 4, "extra_classes": extra,
        "prompts": {"strategy": "basic", "template": "a photo of a {c}."},
        "generate": {"generator": tiny_sd, "steps": 1, "batch_size": 4, "shard_size": 2, "device": "cpu"}})


def test_sizes_share_chunks_and_names_may_differ_in_case(tiny_sd, tmp_path):
    small = build_set(_cfg(tiny_sd, ["A", "a"], 4), tmp_path / "set")
    first_chunk = sorted((tmp_path / "set" / "chunk-000" / "images").glob("*.tar"))
    mtimes = [p.stat().st_mtime_ns for p in first_chunk]
    big = build_set(_cfg(tiny_sd, ["A", "a"], 8), tmp_path / "set")
    assert (small.num_images, big.num_images) == (4, 8) and big.classnames == ("A", "a")
    assert [p.stat().st_mtime_ns for p in first_chunk] == mtimes          # 1x's chunk reused, not remade
    assert set(small.shards) < set(big.shards) and open_set(tmp_path / "set").num_images == 8


def test_extra_classes_are_drawn_with_a_recorded_seed(tmp_path):
    pool = [f"class{i}" for i in range(50)]
    extra = ExtraClassesConfig(file="list.txt", count=5, seed=7)
    a, b = draw_extra_classes(["class0"], pool, extra), draw_extra_classes(["class0"], pool, extra)
    assert a == b and a["seed"] == 7 and len(a["names"]) == 5 and "class0" not in a["names"]
    with pytest.raises(LabelSpaceError, match="has only"):
        draw_extra_classes([], pool[:3], extra)


def test_case_groups():
    assert case_groups(["A", "B", "a", "b", "c"]) == [[0, 1, 4], [2, 3]]


def test_retrained_generator_weights_under_the_same_name_make_a_new_set(tiny_sd, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from synthrec.errors import RunFolderError

    pipe = tmp_path / "pipe"
    shutil.copytree(tiny_sd, pipe)
    build_set(_cfg(str(pipe), ["cat", "dog"], 4), tmp_path / "set")
    weights = next(pipe.rglob("unet/*.safetensors"))
    state = load_file(weights)
    name = next(iter(state))
    state[name] = state[name] + 0.5
    save_file(state, weights)
    with pytest.raises(RunFolderError, match="other model weights"):
        build_set(_cfg(str(pipe), ["cat", "dog"], 4), tmp_path / "set")
    assert build_set(_cfg(str(pipe), ["cat", "dog"], 4), tmp_path / "set", overwrite=True).num_images == 4
