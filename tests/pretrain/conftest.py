"""Fixtures for the pre-training tests (helpers in pretrain_helpers.py)."""
from __future__ import annotations

import pytest
from pretrain_helpers import pattern_images


@pytest.fixture(autouse=True)

def _one_torch_thread(one_torch_thread):
    yield


@pytest.fixture
def make_set(tmp_path):
    from synthrec.pretrain.data import write_image_shards

    def make(n=32, classes=4, shard_size=8, seed=0, name="set"):
        images, labels = pattern_images(n, classes, seed)
        return write_image_shards(tmp_path / name, images, labels, [f"c{i}" for i in range(classes)],
                                  shard_size=shard_size)

    return make
