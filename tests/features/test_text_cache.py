"""Class-text embeddings are cached by (encoder fingerprint, prompts): filtering again loads no text model."""
import torch

from synthrec.train import zero_shot_weights
from synthrec.testing.tiny_clip import ColourEncoder


class CountingEncoder(ColourEncoder):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.text_calls = 0

    def encode_texts(self, texts):
        self.text_calls += 1
        return super().encode_texts(texts)


NAMES, TEMPLATES = ["red", "green", "blue"], ["a {c} thing.", "{c}"]


def test_second_run_reads_the_cache_and_gives_the_same_weights(tmp_path):
    first = CountingEncoder()
    w1 = zero_shot_weights(first, NAMES, TEMPLATES, tmp_path)
    again = CountingEncoder()  # a fresh object, as in a new process
    w2 = zero_shot_weights(again, NAMES, TEMPLATES, tmp_path)
    assert first.text_calls == 1 and again.text_calls == 0
    assert torch.equal(w1, w2)
    assert torch.equal(w1, zero_shot_weights(CountingEncoder(), NAMES, TEMPLATES))  # no cache: same numbers


def test_other_prompts_or_encoder_encode_again(tmp_path):
    zero_shot_weights(CountingEncoder(), NAMES, TEMPLATES, tmp_path)
    other_prompts = CountingEncoder()
    zero_shot_weights(other_prompts, NAMES, ["a photo of a {c}."], tmp_path)
    other_model = CountingEncoder(variant="b")
    zero_shot_weights(other_model, NAMES, TEMPLATES, tmp_path)
    assert other_prompts.text_calls == 1 and other_model.text_calls == 1


def test_a_damaged_entry_is_a_miss(tmp_path):
    zero_shot_weights(CountingEncoder(), NAMES, TEMPLATES, tmp_path)
    for path in tmp_path.rglob("texts-*.safetensors"):
        path.write_bytes(b"not a safetensors file")
    enc = CountingEncoder()
    zero_shot_weights(enc, NAMES, TEMPLATES, tmp_path)
    assert enc.text_calls == 1
