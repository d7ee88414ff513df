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


def test_a_text_encodes_to_the_same_bits_whatever_it_is_encoded_with():
    # The glyph pipeline's prompt vectors come from here: if they depended on their batch-mates, generated images
    # would depend on the micro-batch and on what the process encoded before (issue 15: demo batch size).
    probe = "a low-res scan of a handwritten 4"
    text._memo.pop(probe, None)
    alone = text.encode([probe])
    text._memo.pop(probe, None)
    among = text.encode(["a", probe, "a low-res scan of a child writing the number four on a blackboard"])
    assert torch.equal(alone[0], among[1])
    # The trainers' batched encodings keep their own memo, so they never stand in for an exact one.
    text._memo.pop(probe, None)
    batched = text.encode(["a", probe], batch_size=text.TRAIN_BATCH)
    assert torch.equal(text.encode([probe])[0], alone[0])
    assert batched.shape == (2, text.EMBED_DIM)
