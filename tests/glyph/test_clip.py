import pytest
import torch
from PIL import Image

from synthrec.features.encoders.base import ImageTextEncoder
from synthrec.features.encoders.glyph import load_glyph_clip
from synthrec.glyph.models.clip import GlyphClip, default_config, save_glyph_clip
from synthrec.glyph.models import weights_dir

SHIPPED = (weights_dir("clip") / "model.safetensors").is_file()
needs_weights = pytest.mark.skipif(not SHIPPED, reason="shipped mini CLIP weights not trained yet "
                                   "(python -m synthrec.glyph.train --only clip)")

# Golden numbers of the shipped weights (seed 0), measured by `python -m synthrec.glyph.train --only cards`.
ZERO_SHOT_FIRST100_TEST_FLOOR = 0.72  # measured 0.76
# smallest top-1 margin among these is 0.006 in cosine, far above float noise
GOLDEN_TOP1_FIRST20_TEST = [0, 1, 3, 4, 7, 8, 0, 3, 5, 7, 8, 1, 2, 3, 3, 0, 3, 5, 5, 5]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(0)
    cfg = {**default_config(), "width": 4}
    folder = tmp_path_factory.mktemp("clip")
    save_glyph_clip(GlyphClip(**cfg), cfg, folder)
    return folder


def test_interface_and_shapes(tiny):
    enc = load_glyph_clip(str(tiny))
    assert isinstance(enc, ImageTextEncoder)
    for im in (Image.new("RGB", (40, 30), "white"), Image.new("L", (8, 8)), Image.new("RGBA", (16, 16))):
        assert enc.preprocess(im).shape == (1, 16, 16)
    f = enc.encode_images([Image.new("L", (8, 8), 200)] * 3)
    t = enc.encode_texts(["a 7", "a 1"])
    assert f.shape == (3, enc.embed_dim) and t.shape == (2, enc.embed_dim)
    assert torch.allclose(f.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(t.norm(dim=1), torch.ones(2), atol=1e-5)
    assert enc.logit_scale > 0 and enc.encoder_id.startswith("glyph:clip")


def test_fingerprint_follows_the_weights(tiny, tmp_path):
    a, b = load_glyph_clip(str(tiny)), load_glyph_clip(str(tiny))
    assert a.fingerprint == b.fingerprint
    torch.manual_seed(1)
    cfg = {**default_config(), "width": 4}
    save_glyph_clip(GlyphClip(**cfg), cfg, tmp_path)
    assert load_glyph_clip(str(tmp_path)).fingerprint != a.fingerprint


def test_missing_weights_is_a_clear_error(tmp_path):
    from synthrec.errors import ModelLoadError

    with pytest.raises(ModelLoadError):
        load_glyph_clip(str(tmp_path))


@needs_weights
def test_shipped_clip_zero_shot_on_real_digits():
    from synthrec.datasets.digits import load_digits_split
    from synthrec.glyph.training.measure import zero_shot_head

    enc = load_glyph_clip()
    images, labels = load_digits_split("test")
    head = zero_shot_head(enc)
    pred = (enc.encode_images(images[:100]) @ head.T).argmax(1)
    acc = float((pred == torch.tensor(labels[:100])).float().mean())
    assert acc >= ZERO_SHOT_FIRST100_TEST_FLOOR
    assert pred[:20].tolist() == GOLDEN_TOP1_FIRST20_TEST
