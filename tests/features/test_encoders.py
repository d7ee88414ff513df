"""Encoders: each flavour built from a config, saved, loaded back by path, and checked against the raw library."""
import json
import shutil
import sys

import pytest
import torch
import torch.nn.functional as F

from synthrec.errors import ConfigError, ModelLoadError
from synthrec.features import create_encoder, list_encoder_prefixes
from synthrec.features.encoders import ImageTextEncoder
from synthrec.testing.tiny_clip import build_tiny_open_clip, tiny_open_clip_config


def _check_features(feats: torch.Tensor, n: int, d: int):
    assert feats.shape == (n, d) and feats.dtype == torch.float32 and feats.device.type == "cpu"
    assert torch.allclose(feats.norm(dim=1), torch.ones(n), atol=1e-5)


@pytest.mark.parametrize("flavour", ["tiny_open_clip", "tiny_hf_clip"])
def test_reload_gives_identical_features(flavour, images, request):
    spec = request.getfixturevalue(flavour)
    enc = create_encoder(spec, device="cpu")
    assert isinstance(enc, ImageTextEncoder) and enc.encoder_id == spec and enc.embed_dim == 16
    feats = enc.encode_images(images, batch_size=2)
    _check_features(feats, len(images), 16)
    texts = enc.encode_texts(["a photo of a dog.", "a photo of a cat.", ""])
    _check_features(texts, 3, 16)
    again = create_encoder(spec, device="cpu")
    assert again.fingerprint == enc.fingerprint
    assert torch.equal(again.encode_images(images, batch_size=2), feats)
    assert torch.allclose(again.encode_images(images, batch_size=64), feats, atol=1e-5)  # batching changes nothing
    assert torch.equal(again.encode_texts(["a photo of a dog.", "a photo of a cat.", ""]), texts)


def test_open_clip_matches_library(tiny_open_clip, images):
    import open_clip

    enc = create_encoder(tiny_open_clip, device="cpu")
    folder = tiny_open_clip.split(":", 1)[1]
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    model.eval()
    with torch.no_grad():
        ref = F.normalize(model.encode_image(torch.stack([preprocess(im) for im in images])), dim=-1)
        tok = open_clip.get_tokenizer(f"local-dir:{folder}")
        ref_t = F.normalize(model.encode_text(tok(["a photo of a dog."])), dim=-1)
    assert torch.allclose(enc.encode_images(images), ref, atol=1e-6)
    assert torch.allclose(enc.encode_texts(["a photo of a dog."]), ref_t, atol=1e-6)
    assert enc.logit_scale == pytest.approx(float(model.logit_scale.detach().exp()))


def test_hf_matches_library(tiny_hf_clip, images):
    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

    enc = create_encoder(tiny_hf_clip, device="cpu")
    folder = tiny_hf_clip.split(":", 1)[1]
    model = CLIPModel.from_pretrained(folder).eval()
    proc = CLIPImageProcessor.from_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        out = model.get_image_features(pixel_values=proc(images=images, return_tensors="pt")["pixel_values"])
        ref = F.normalize(out.pooler_output if not torch.is_tensor(out) else out, dim=-1)
        out_t = model.get_text_features(**tok(["a photo of a dog.", "x"], padding=True, return_tensors="pt"))
        ref_t = F.normalize(out_t.pooler_output if not torch.is_tensor(out_t) else out_t, dim=-1)
    assert torch.allclose(enc.encode_images(images), ref, atol=1e-6)
    assert torch.allclose(enc.encode_texts(["a photo of a dog.", "x"]), ref_t, atol=1e-6)


def test_arch_and_weights_file_spec(tiny_open_clip, images):
    """``open_clip:<arch>/<weights file>`` loads the same weights as the folder, with open_clip's default preprocess."""
    import open_clip

    folder = tiny_open_clip.split(":", 1)[1]
    open_clip.add_model_config(tiny_open_clip_config(folder))
    enc = create_encoder(f"open_clip:synthrec-tiny-clip/{folder}/open_clip_model.safetensors", device="cpu")
    ref = create_encoder(tiny_open_clip, device="cpu")
    assert torch.allclose(enc.encode_images(images), ref.encode_images(images), atol=1e-6)
    assert enc.fingerprint != ref.fingerprint  # another spec form is another cache namespace; never a collision


def test_fingerprint_follows_weights_and_preprocessing(tmp_path, tiny_open_clip, images):
    base = create_encoder(tiny_open_clip, device="cpu")
    other_weights = create_encoder(build_tiny_open_clip(tmp_path / "seed1", seed=1), device="cpu")
    assert other_weights.fingerprint != base.fingerprint

    moved = tmp_path / "moved"
    shutil.copytree(tiny_open_clip.split(":", 1)[1], moved)
    assert create_encoder(f"open_clip:{moved}", device="cpu").fingerprint == base.fingerprint  # content, not path

    cfg_path = moved / "open_clip_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["preprocess_cfg"]["mean"] = [0.5, 0.5, 0.5]
    cfg_path.write_text(json.dumps(cfg))
    changed = create_encoder(f"open_clip:{moved}", device="cpu")
    assert changed.fingerprint != base.fingerprint
    assert changed.preprocess_cfg["mean"] == [0.5, 0.5, 0.5]  # preprocessing comes from the model's own config
    assert not torch.equal(changed.preprocess(images[0]), base.preprocess(images[0]))


def test_hf_preprocessing_comes_from_processor_config(tmp_path, tiny_hf_clip, images):
    folder = tmp_path / "hf"
    shutil.copytree(tiny_hf_clip.split(":", 1)[1], folder)
    cfg = json.loads((folder / "preprocessor_config.json").read_text())
    cfg["image_mean"] = [0.0, 0.0, 0.0]
    (folder / "preprocessor_config.json").write_text(json.dumps(cfg))
    base, changed = create_encoder(tiny_hf_clip, device="cpu"), create_encoder(f"hf:{folder}", device="cpu")
    assert changed.fingerprint != base.fingerprint
    assert changed.preprocess(images[0]).shape == (3, 32, 32)
    assert not torch.equal(changed.preprocess(images[0]), base.preprocess(images[0]))
    assert base.fingerprint != create_encoder(tiny_hf_clip, device="cpu", precision="bf16").fingerprint


@pytest.mark.parametrize("spec, named", [
    ("foo:bar", "foo:bar"),
    ("RN50/openai", "open_clip:RN50/openai"),
    ("", "open_clip:"),
    ("open_clip:RN51/openai", "RN51"),
    ("open_clip:RN50", "openai"),
    ("open_clip:RN50/opena", "opena"),
    ("open_clip:RN50//does/not/exist.safetensors", "/does/not/exist.safetensors"),
    ("open_clip:/does/not/exist", "/does/not/exist"),
    ("hf:/does/not/exist", "/does/not/exist"),
    ("hf:nobody-xyz/not-a-model", "nobody-xyz/not-a-model"),
])
def test_unknown_spec_is_one_line_model_load_error(spec, named):
    with pytest.raises(ModelLoadError) as info:
        create_encoder(spec, device="cpu")
    msg = str(info.value)
    assert "\n" not in msg and named in msg and info.value.fix


def test_close_architectures_are_suggested():
    with pytest.raises(ModelLoadError, match="RN50"):
        create_encoder("open_clip:RN5O/openai", device="cpu")


def test_folder_without_config_is_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="open_clip_config.json"):
        create_encoder(f"open_clip:{tmp_path}", device="cpu")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="preprocessor_config.json"):
        create_encoder(f"hf:{tmp_path}", device="cpu")


def test_glyph_spec_routes_to_the_glyph_package(monkeypatch):
    calls = []
    sentinel = object()

    def load_glyph_clip(path=None, device=None):
        calls.append((path, device))
        return sentinel

    from synthrec.features.encoders import glyph as glyph_encoder

    monkeypatch.setattr(glyph_encoder, "load_glyph_clip", load_glyph_clip)
    assert create_encoder("glyph", device="cpu") is sentinel
    assert create_encoder("glyph:/some/folder", device="cpu") is sentinel
    assert calls == [(None, "cpu"), ("/some/folder", "cpu")]
    assert {"glyph", "hf", "open_clip"} <= set(list_encoder_prefixes())


def test_glyph_spec_without_the_glyph_models_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "synthrec.glyph.models.clip", None)  # import now raises ImportError
    with pytest.raises(ModelLoadError, match="glyph world's CLIP is not available"):
        create_encoder("glyph", device="cpu")


def test_device_and_precision_choices(tiny_open_clip):
    enc = create_encoder(tiny_open_clip)  # auto: CUDA + fp16 when present, else CPU + fp32
    assert enc.precision == ("fp16" if torch.cuda.is_available() else "fp32")
    with pytest.raises(ConfigError, match="fp16"):
        create_encoder(tiny_open_clip, device="cpu", precision="fp16")
    with pytest.raises(ConfigError, match="precision"):
        create_encoder(tiny_open_clip, device="cpu", precision="fp8")


def test_hub_ids_are_pinned_to_the_resolved_commit(monkeypatch):
    import huggingface_hub

    from synthrec.features.encoders.hf_clip import _hub_commit

    sha = "0123456789abcdef0123456789abcdef01234567"
    assert _hub_commit("org/model", sha) == sha
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache",
                        lambda repo, name, revision=None: f"/cache/models--org--model/snapshots/{sha}/{name}")
    assert _hub_commit("org/model", None) == sha  # "main" moves; the fingerprint follows the commit it resolved to
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo, name, revision=None: None)
    with pytest.raises(ModelLoadError, match="@<commit sha>"):
        _hub_commit("org/model", None)
