import os

import pytest
import torchvision.datasets.cifar
import torchvision.datasets.flowers102
from fake_dataset_layouts import build_all

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def fake_root(tmp_path_factory):
    """One data root holding a tiny fake copy of every benchmark dataset; returns (root, keys of each layout)."""
    root = tmp_path_factory.mktemp("data")
    return root, build_all(root)


@pytest.fixture(autouse=True)
def _accept_fake_checksums(monkeypatch):
    # torchvision md5-checks CIFAR's batches and Flowers' .mat files; fake copies cannot match the real sums.
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    monkeypatch.setattr(torchvision.datasets.flowers102, "check_integrity", lambda *a, **k: True)
