import math

import pytest
import torch

from synthrec.errors import ConfigError
from synthrec.pretrain.checkpoint import load_checkpoint, read_meta
from synthrec.pretrain.presets import PRESETS, lr_at, resolve_recipe
from synthrec.pretrain.run import pretrain

from pretrain_helpers import TINY_RESNET, TINY_VIT, tiny_config


@pytest.mark.parametrize("model", [TINY_RESNET, TINY_VIT], ids=["resnet", "vit"])
def test_supervised_steps_and_checkpoint(make_set, tmp_path, model):
    shard_set = make_set()
    out = pretrain(tiny_config(shard_set.folder, model), tmp_path / "run")
    assert [h["epoch"] for h in out["history"]] == [1, 2] and all(h["images"] == 32 for h in out["history"])
    meta = read_meta(out["checkpoint"])
    assert meta["model"] == model[0] and meta["num_classes"] == 4 and meta["position"]["epoch"] == 2
    ckpt = load_checkpoint(out["checkpoint"])
    assert ckpt.optimizer["state"] and all(torch.isfinite(v).all() for v in ckpt.model.values() if v.is_floating_point())


def test_mocov2_steps_keep_backbone_key_encoder_and_queue(make_set, tmp_path):
    shard_set = make_set()
    out = pretrain(tiny_config(shard_set.folder, method="mocov2", epochs=1), tmp_path / "moco")
    ckpt = load_checkpoint(out["checkpoint"])
    assert ckpt.meta["num_classes"] == 0 and set(ckpt.extra) == {"head", "key", "loss"}
    assert any("bank" in k for k in ckpt.extra["loss"]) and math.isfinite(out["history"][0]["loss"])


def test_presets_are_the_papers_recipes():
    aware, agnostic, transfer = (resolve_recipe(n) for n in ("aware", "agnostic", "transfer"))
    assert (aware.optimizer, aware.lr, aware.lr_from_init, aware.batch_size, aware.epochs) == ("adamw", 1e-4, 1e-5,
                                                                                               512, 90)
    assert (agnostic.lr, agnostic.milestones, agnostic.gamma, agnostic.weight_decay) == (0.2, [30, 60], 0.1, 1e-4)
    assert (transfer.lr, transfer.milestones, transfer.gamma, transfer.weight_decay) == (0.003, [60, 120, 160], 0.2,
                                                                                         5e-4)
    assert resolve_recipe("deit").base_lr(False) == pytest.approx(5e-4 * 1024 / 512)
    assert resolve_recipe("mocov2").base_lr(True) == 0.003
    assert set(PRESETS) == {"aware", "agnostic", "deit", "mocov2", "transfer"}


def test_short_run_keeps_the_schedule_shape():
    r = resolve_recipe("transfer", {"epochs": 10})
    assert r.milestones == [3, 6, 8]
    assert lr_at(r, 1.0, 2.9) == 1.0 and lr_at(r, 1.0, 3.0) == pytest.approx(0.2)
    assert lr_at(r, 1.0, 9.5) == pytest.approx(0.008)


def test_unknown_preset_and_bad_override_are_config_errors():
    with pytest.raises(ConfigError, match="unknown recipe preset"):
        resolve_recipe("imagenet")
    with pytest.raises(ConfigError, match="lr"):
        resolve_recipe("aware", {"lr": -1})


def test_deit_randaugment_survives_a_zero_bit_posterize():
    """rand-m9-mstd0.5-inc1 asks timm for 0-bit posterize when the noisy magnitude hits 10; Pillow 13 refuses it."""
    import timm
    from PIL import Image
    from timm.data.auto_augment import AugmentOp

    from synthrec.pretrain.models import train_transform
    from synthrec.pretrain.presets import resolve_recipe

    model = timm.create_model("resnet18", num_classes=2, layers=[1, 1, 1, 1], channels=[8, 8, 8, 8], stem_width=8)
    train_transform(model, 16, resolve_recipe("deit", {}))
    image = Image.new("RGB", (16, 16), (200, 120, 40))
    strongest = AugmentOp("PosterizeIncreasing", prob=1.0, magnitude=10)
    assert strongest(image).getextrema() == ((0, 0), (0, 0), (0, 0))      # keeps 0 bits: black, as Pillow < 13
    assert AugmentOp("PosterizeIncreasing", prob=1.0, magnitude=5)(image).getextrema() != ((0, 0),) * 3
