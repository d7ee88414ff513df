import torch

from synthrec.glyph import models, world
from synthrec.glyph.models import text


def test_minilm_embeddings_are_normalised_and_cached():
    e = text.encode(["a handwritten 7", "a handwritten 7", "a printed 1"])
    assert e.shape == (3, text.EMBED_DIM)
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.equal(e[0], e[1])
    assert float(e[0] @ e[2]) < 0.99


def test_world_constants():
    assert world.DIGIT_CLASSNAMES == tuple("0123456789")
    assert world.basic_prompt("7") == world.BASIC_PROMPT.format(c="7") and "7" in world.basic_prompt("7")
    assert all("3" in p for p in world.zero_shot_prompts("3"))
    assert models.weights_dir("clip").name == "clip"
