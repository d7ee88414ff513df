"""Fixtures for generation tests: one tiny random Stable Diffusion, built once per session and loaded from disk."""
from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

STEPS = 2
GUIDANCE = 3.0


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    yield


@pytest.fixture(scope="session")
def tiny_sd_path(tmp_path_factory) -> str:
    from synthrec.testing.tiny_sd import build_tiny_sd

    # 8x8 latents -> 16x16 images, one layer per block: plumbing needs no more, and the folder stays fast.
    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd") / "pipe", seed=0, sample_size=8, layers_per_block=1)


@pytest.fixture(scope="session")
def tiny_generator(tiny_sd_path):
    from synthrec.generate import create_generator

    return create_generator(tiny_sd_path, device="cpu", steps=STEPS, guidance_scale=GUIDANCE)


@pytest.fixture
def prompts():
    import pyarrow as pa

    return pa.table({"class_id": [0, 0, 1], "prompt_id": [10, 11, 20], "text": ["a dog", "a puppy", "a cat"],
                     "strategy": ["basic"] * 3, "seed": [0] * 3})


@pytest.fixture
def make_cfg(tiny_sd_path):
    from synthrec.config.schema import GenerateConfig

    def make(**kw):
        base = dict(generator=tiny_sd_path, images_per_prompt=2, steps=STEPS, guidance_scale=GUIDANCE, shard_size=2,
                    batch_size=2, device="cpu")
        base.update(kw)
        return GenerateConfig(**base)

    return make
