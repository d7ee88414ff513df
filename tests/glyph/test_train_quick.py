import json

import pytest

from synthrec.features.encoders.glyph import load_glyph_clip
from synthrec.glyph.models.pipeline import load_glyph_pipeline
from synthrec.glyph.training import train_all


# ~15 s alone, over 30 s on a busy 2-core machine
@pytest.mark.slow
def test_quick_training_reproduces_every_artefact(tmp_path):
    train_all(tmp_path, seed=0, quick=True)
    for part in ("clip", "diffusion", "writers", "le", "cards"):
        assert (tmp_path / "logs" / f"{part}.log").is_file()
        assert json.loads((tmp_path / "logs" / f"{part}.json").read_text())["quick"] is True
    for grid_name in ("diffusion", "writers"):
        assert list((tmp_path / "logs").glob(f"{grid_name}_step*.png"))
    for name in ("clip", "pipeline", "le"):
        assert (tmp_path / name / "README.md").is_file()
    assert load_glyph_clip(str(tmp_path / "clip")).embed_dim == 256
    assert load_glyph_pipeline(tmp_path / "pipeline").unet.config.sample_size == 16
