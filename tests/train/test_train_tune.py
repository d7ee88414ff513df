"""train.tune beyond the head (the paper's Table 3) and train.freeze_bn (Table 6), on the three encoder kinds."""
from __future__ import annotations

import pytest
import torch

from synthrec.config.schema import TrainConfig
from synthrec.train import pixels_from_loaders, save_tuned, train_tuned, tuned_encoder, zero_shot_weights
from synthrec.train.tune import TOWER_FILE

NAMES = ["0", "1", "2"]


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    from synthrec.features.encoders import create_encoder
    from synthrec.testing.tiny_clip import build_tiny_hf_clip, build_tiny_open_clip

    folder = tmp_path_factory.mktemp("models")
    return {"open_clip": create_encoder(build_tiny_open_clip(folder / "oc"), device="cpu", precision="fp32"),
            "hf": create_encoder(f"hf:{build_tiny_hf_clip(folder / 'hf').removeprefix('hf:')}", device="cpu",
                                 precision="fp32"),
            "glyph": create_encoder("glyph", device="cpu")}


def _data(encoder, n=12):
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    images = [Image.fromarray((torch.rand(24, 24, 3, generator=g) * 255).to(torch.uint8).numpy()) for _ in range(n)]
    pixels = pixels_from_loaders(encoder, [lambda im=im: im for im in images])
    assert torch.equal(pixels([2, 0]), torch.stack([encoder.preprocess(images[2]), encoder.preprocess(images[0])]))
    return images, pixels, [i % 3 for i in range(n)]


def _cfg(tune, **kw):
    return TrainConfig(encoder="x", tune=tune, epochs=2, batch_size=4, lr=1e-2, encoder_lr=1e-2, device="cpu",
                       sce_weight=0.5, **kw)


def _tower_state(encoder):
    return {k: v.detach().clone() for k, v in encoder.image_tower().module.state_dict().items()}


def _changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if not torch.equal(before[k].float(), after[k].float())}


@pytest.mark.parametrize("kind", ["open_clip", "hf", "glyph"])
def test_last_block_tunes_only_the_last_block_and_leaves_the_encoder_as_it_was(encoders, kind):
    encoder = encoders[kind]
    _, pixels, labels = _data(encoder)
    before = _tower_state(encoder)
    init = zero_shot_weights(encoder, NAMES, ["a {c}"])
    result = train_tuned(encoder, pixels, labels, init, _cfg("last_block"), seed=0, progress=False)
    changed = {k for k in _changed(before, result.meta["image_tower"]) if "running" not in k and "batches" not in k}
    last = encoder.image_tower().last_block
    assert changed and all(any(k == p or k.startswith(p + ".") for p in last) for k in changed), (changed, last)
    assert not _changed(before, _tower_state(encoder))  # the encoder itself is untouched
    assert not torch.equal(result.head.linear.weight, init) and 0 < result.meta["tuned_share"] < 1


@pytest.mark.parametrize("kind", ["open_clip", "hf", "glyph"])
def test_image_encoder_tunes_the_whole_tower_and_the_saved_tower_is_what_evaluation_sees(encoders, kind, tmp_path):
    encoder = encoders[kind]
    images, pixels, labels = _data(encoder)
    before = _tower_state(encoder)
    base_feats = encoder.encode_images(images)
    result = train_tuned(encoder, pixels, labels, zero_shot_weights(encoder, NAMES, ["a {c}"]),
                         _cfg("image_encoder"), seed=0, progress=False)
    first = encoder.image_tower().last_block[0]
    changed = _changed(before, result.meta["image_tower"])
    assert any(not (k == first or k.startswith(first + ".")) for k in changed)  # more than the last block
    save_tuned(result, tmp_path)
    assert (tmp_path / TOWER_FILE).is_file() and (tmp_path / "train.json").is_file()
    tuned = tuned_encoder(encoder, tmp_path)
    assert tuned.fingerprint != encoder.fingerprint
    tuned_feats = tuned.encode_images(images)
    assert not torch.allclose(tuned_feats, base_feats, atol=1e-5)
    assert torch.allclose(encoder.encode_images(images), base_feats)  # the original encoder is unchanged
    assert tuned_encoder(encoder, tmp_path / "no-tower") is encoder


def test_head_scope_leaves_the_tower_alone(encoders):
    encoder = encoders["glyph"]
    _, pixels, labels = _data(encoder)
    before = _tower_state(encoder)
    result = train_tuned(encoder, pixels, labels, zero_shot_weights(encoder, NAMES, ["a {c}"]), _cfg("head"),
                         seed=0, progress=False)
    assert not _changed(before, result.meta["image_tower"]) and result.meta["tuned_share"] < 0.01


@pytest.mark.parametrize("freeze_bn", [True, False])
def test_freeze_bn_keeps_running_statistics(encoders, freeze_bn):
    encoder = encoders["glyph"]
    _, pixels, labels = _data(encoder)
    before = _tower_state(encoder)
    result = train_tuned(encoder, pixels, labels, zero_shot_weights(encoder, NAMES, ["a {c}"]),
                         _cfg("last_block", freeze_bn=freeze_bn), seed=0, progress=False)
    stats = {k for k in _changed(before, result.meta["image_tower"]) if "running" in k}
    last = encoder.image_tower().last_block
    if freeze_bn:
        assert not stats
    else:  # only the tuned block's BN moves; the frozen part stays in eval mode
        assert stats and all(k.split(".")[0] in last for k in stats)


def test_tune_is_validated_and_an_encoder_without_a_tower_refuses():
    from synthrec.errors import ConfigError
    from synthrec.features.encoders.base import ImageTextEncoder

    with pytest.raises(ValueError):
        TrainConfig(tune="everything")

    class NoTower(ImageTextEncoder):
        encoder_id = "x"

        def preprocess(self, image):
            raise NotImplementedError

        def encode_pixels(self, pixels):
            raise NotImplementedError

        def encode_texts(self, texts):
            raise NotImplementedError

    with pytest.raises(ConfigError, match="train.tune: head"):
        NoTower().image_tower()
