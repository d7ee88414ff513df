"""Fixtures for the prompts tests: offline hub, one torch thread, tiny T5 models built once per session."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _offline_single_thread(monkeypatch, one_torch_thread):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory) -> str:
    """A tiny T5 trained on dog/cat/tench -> sentences, saved to disk and loaded back by path in the tests."""
    import torch

    from synthrec.testing.tiny_t5 import build_tiny_t5

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return build_tiny_t5(tmp_path_factory.mktemp("tiny_t5"))
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def noise_t5(tmp_path_factory) -> str:
    """An untrained tiny T5: its samples are byte noise that never contains a class word."""
    from synthrec.testing.tiny_t5 import build_tiny_t5

    return build_tiny_t5(tmp_path_factory.mktemp("noise_t5"), steps=0)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    # WordNet's working copy goes to a temporary cache, not the user's ~/.cache.
    old = os.environ.get("SYNTHREC_CACHE_DIR")
    os.environ["SYNTHREC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("SYNTHREC_CACHE_DIR", None)
    else:
        os.environ["SYNTHREC_CACHE_DIR"] = old
