"""`synthrec pretrain CONFIG` then `synthrec transfer CONFIG` on a tiny pattern set and a tiny ImageFolder task."""
from __future__ import annotations

import yaml
from pretrain_helpers import TINY_RESNET, pattern_images
from typer.testing import CliRunner

from synthrec.cli.app import app


def _image_folder(root, n, seed):
    images, labels = pattern_images(n, 4, seed)
    for i, (im, c) in enumerate(zip(images, labels)):
        (root / f"c{c}").mkdir(parents=True, exist_ok=True)
        im.save(root / f"c{c}" / f"{i}.png")
    return str(root)


def test_pretrain_then_transfer_commands(make_set, tmp_path):
    cfg = {"run_dir": str(tmp_path / "run"), "seed": 0,
           "pretrain": {"data": make_set(n=16, shard_size=8).folder, "model": TINY_RESNET[0],
                        "model_kwargs": TINY_RESNET[1], "image_size": 16, "preset": "agnostic",
                        "recipe": {"epochs": 1, "batch_size": 8}, "num_workers": 0, "device": "cpu"},
           "transfer": {"image_folder": _image_folder(tmp_path / "train", 8, 1),
                        "test_image_folder": _image_folder(tmp_path / "test", 8, 2),
                        "recipe": {"epochs": 1, "batch_size": 4}, "num_workers": 0, "device": "cpu"}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    runner = CliRunner()
    first = runner.invoke(app, ["pretrain", str(path)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["transfer", str(path)])
    assert second.exit_code == 0, second.output
    assert "| scratch |" in second.output and "| synthetic pre-training |" in second.output
    report = (tmp_path / "run" / "report-pretrain.md").read_text()
    assert "## Pre-training" in report and "## Transfer" in report and (tmp_path / "run" / "pretrain_curves.png").is_file()
