"""A finished run folder on tiny real backends (diffusers SD, open_clip), built once per test session."""
from __future__ import annotations

import pytest
import yaml


def tiny_run_config(root, run_dir, **sections) -> dict:
    from synthrec.testing.tiny_clip import build_tiny_open_clip
    from synthrec.testing.tiny_sd import build_tiny_sd

    models = root / "models"
    sd = str(models / "sd") if (models / "sd" / "model_index.json").is_file() else build_tiny_sd(
        models / "sd", sample_size=8, layers_per_block=1)
    clip = f"open_clip:{models / 'clip'}" if (models / "clip").is_dir() else build_tiny_open_clip(models / "clip")
    cfg = {
        "run_dir": str(run_dir), "seed": 0,
        "labels": {"names": ["bird", "cat", "dog"]},
        "prompts": {"strategy": "basic", "template": "a photo of a {c}."},
        "generate": {"generator": sd, "images_per_prompt": 6, "steps": 2, "batch_size": 6, "shard_size": 8},
        "filter": {"encoder": clip},
        "train": {"encoder": clip, "epochs": 2, "batch_size": 8},
    }
    for k, v in sections.items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    return cfg


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """A run folder with every stage but evaluate done: 18 images of 3 classes, filtered, a trained head."""
    import torch

    from synthrec import api

    torch.set_num_threads(1)  # tiny models on a shared 2-core machine: a second thread only spins
    root = tmp_path_factory.mktemp("finished-run")
    cfg = tiny_run_config(root, root / "run")
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    api.run(path)
    return root / "run"
