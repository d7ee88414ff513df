"""Tiny real backends on disk, built once per test session: Stable Diffusion, open_clip and HF CLIP, T5."""
from __future__ import annotations

import functools

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    from synthrec.testing.tiny_clip import build_tiny_hf_clip, build_tiny_open_clip
    from synthrec.testing.tiny_sd import build_tiny_sd
    from synthrec.testing.tiny_t5 import build_tiny_t5

    root = tmp_path_factory.mktemp("tiny-models")
    pairs = [("cat", "a cat on a sofa"), ("cat", "a small cat in the sun"), ("dog", "a dog runs in a park"),
             ("dog", "a brown dog on grass"), ("bird", "a bird on a branch"), ("bird", "a red bird in a tree")]
    return {
        "sd": build_tiny_sd(root / "sd"),
        "open_clip": build_tiny_open_clip(root / "open_clip"),
        "hf_clip": build_tiny_hf_clip(root / "hf_clip"),
        "t5": build_tiny_t5(root / "t5", pairs=pairs, steps=150),
    }


@pytest.fixture(scope="session")
def test_folder(tmp_path_factory):
    """A real-looking ImageFolder test set: 4 images for each of 3 classes."""
    root = tmp_path_factory.mktemp("testset")
    rng = np.random.default_rng(0)
    for c, name in enumerate(["bird", "cat", "dog"]):
        (root / name).mkdir()
        for i in range(4):
            arr = (rng.random((32, 32, 3)) * 80 + 60 * c).astype("uint8")
            Image.fromarray(arr).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def write_config(tiny_models, test_folder):
    return functools.partial(_write_config, models=tiny_models, test_folder=test_folder)


def _write_config(path, run_dir, models, test_folder, **sections):
    import yaml

    cfg = {
        "run_dir": str(run_dir),
        "seed": 0,
        "labels": {"names": ["bird", "cat", "dog"]},
        "prompts": {"strategy": "le", "per_class": 2, "prefix": "a photo of",
                    "le": {"model": models["t5"], "max_draws": 8, "max_new_tokens": 16}},
        "generate": {"generator": models["sd"], "images_per_prompt": 2, "steps": 2, "height": 32, "width": 32,
                     "batch_size": 4, "shard_size": 4, "guidance_scale": 3.0},
        "filter": {"encoder": models["open_clip"], "dedup": True},
        "train": {"encoder": models["open_clip"], "epochs": 3, "batch_size": 8},
        "evaluate": {"image_folder": str(test_folder)},
        "report": {"samples_per_class": 4},
    }
    for k, v in sections.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
