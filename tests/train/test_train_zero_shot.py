"""The zero-shot head against a hand computation of METHOD.md §2.1."""
import math

import pytest
import torch

from synthrec.errors import ConfigError
from synthrec.testing.tiny_clip import ColourEncoder
from synthrec.train import ClassifierHead, zero_shot_head, zero_shot_weights


class TableEncoder(ColourEncoder):
    """Text embeddings looked up in a fixed table (not normalised, so the per-prompt normalisation is tested)."""

    def __init__(self, table, logit_scale=100.0):
        super().__init__(logit_scale=logit_scale)
        self.table = table
        self.embed_dim = 2

    def encode_texts(self, texts):
        return torch.tensor([self.table[t] for t in texts], dtype=torch.float32)


def _unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def test_weights_match_hand_computation():
    table = {"a cat.": [3.0, 4.0], "the cat!": [0.0, 2.0], "a dog.": [1.0, 0.0], "the dog!": [1.0, 1.0]}
    enc = TableEncoder(table, logit_scale=100.0)
    w = zero_shot_weights(enc, ["cat", "dog"], ["a {c}.", "the {c}!"])
    expected = []
    for c in ("cat", "dog"):
        e1, e2 = _unit(table[f"a {c}."]), _unit(table[f"the {c}!"])
        expected.append([100.0 * x for x in _unit([(a + b) / 2 for a, b in zip(e1, e2)])])
    assert torch.allclose(w, torch.tensor(expected), atol=1e-5)
    # cat: mean of (0.6, 0.8) and (0, 1) = (0.3, 0.9) -> normalised (0.3162, 0.9487) x 100
    assert w[0].tolist() == pytest.approx([31.6228, 94.8683], abs=1e-3)


def test_head_gives_scaled_cosine_with_zero_bias():
    enc = ColourEncoder(logit_scale=50.0)
    head = zero_shot_head(enc, ["red", "green", "blue"], ["a {c} thing."])
    assert torch.equal(head.linear.bias, torch.zeros(3))
    x = torch.tensor([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    logits = head(x)
    assert torch.allclose(logits, torch.tensor([[50.0, 0.0, 0.0], [50 / math.sqrt(2), 50 / math.sqrt(2), 0.0]]))
    assert head.meta["classnames"] == ["red", "green", "blue"] and head.meta["encoder_fingerprint"] == enc.fingerprint


def test_template_needs_a_slot_and_braces_are_literal():
    enc = TableEncoder({"{x} a {c}": [1.0, 0.0]})
    with pytest.raises(ConfigError, match="slot"):
        zero_shot_weights(enc, ["cat"], ["a photo"])
    table = {"{x} cat": [1.0, 0.0]}
    assert zero_shot_weights(TableEncoder(table), ["cat"], ["{x} {c}"]).shape == (1, 2)


def test_head_save_load_roundtrip(tmp_path):
    head = ClassifierHead.from_weights(torch.randn(4, 8), torch.randn(4), meta={"classnames": list("abcd")})
    head.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.json", "head.safetensors"]
    back = ClassifierHead.load(tmp_path)
    assert torch.equal(back.linear.weight, head.linear.weight) and torch.equal(back.linear.bias, head.linear.bias)
    assert back.meta == head.meta and back.normalize
    x = torch.randn(5, 8)
    assert torch.equal(back(x), head(x))
