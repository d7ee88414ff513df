"""Bad input to `synthrec pretrain` / `synthrec transfer`: one line naming the problem and the fix, exit code 1."""
from __future__ import annotations

import pytest
import torch
import yaml
from pretrain_helpers import TINY_RESNET, TINY_VIT
from typer.testing import CliRunner

from synthrec.cli.app import app
from synthrec.pretrain.checkpoint import CheckpointError, save_checkpoint

runner = CliRunner()


def _run(tmp_path, command, **sections):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"run_dir": str(tmp_path / "run"), **sections}))
    res = runner.invoke(app, [command, str(path)])
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert res.exit_code == 1 and "Traceback" not in res.output and len(lines) == 1, res.output
    return lines[0]


def test_unknown_timm_name(make_set, tmp_path):
    line = _run(tmp_path, "pretrain", pretrain={"data": make_set().folder, "model": "resnet_from_mars"})
    assert "unknown timm model 'resnet_from_mars'" in line and "timm.create_model" in line


def test_set_folder_with_no_shards(tmp_path):
    (tmp_path / "empty").mkdir()
    line = _run(tmp_path, "pretrain", pretrain={"data": str(tmp_path / "empty"), "model": "resnet18"})
    assert "has no shards" in line


def test_one_class_label_space(tmp_path):
    line = _run(tmp_path, "pretrain", pretrain={"set": {"labels": {"names": ["cat"]}, "images": 10,
                                                        "generate": {"generator": "glyph"}}})
    assert "1 class" in line and "at least two" in line


def test_checkpoint_of_another_architecture(tmp_path):
    vit = {"cls_token": torch.zeros(1, 1, 16)}
    path = save_checkpoint(tmp_path / "vit.safetensors", vit, {"model": TINY_VIT[0], "model_kwargs": TINY_VIT[1]})
    line = _run(tmp_path, "transfer", transfer={"dataset": "digits", "model": TINY_RESNET[0],
                                                "model_kwargs": TINY_RESNET[1], "inits": {"vit": str(path)}})
    assert "holds a 'vit_tiny_patch16_224' model" in line and "resnet18" in line


def test_same_name_other_shapes_is_refused(tmp_path):
    from synthrec.pretrain.models import create_model, load_weights_into

    wide = create_model(TINY_RESNET[0], 4, {**TINY_RESNET[1], "channels": [8, 8, 16, 32]})
    path = save_checkpoint(tmp_path / "wide.safetensors", wide.state_dict(), {"model": TINY_RESNET[0]})
    with pytest.raises(CheckpointError, match="does not fit"):
        load_weights_into(create_model(TINY_RESNET[0], 4, TINY_RESNET[1]), path, model_name=TINY_RESNET[0])
