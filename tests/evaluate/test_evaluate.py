"""evaluate_heads: top-1 overall and per class for each head, checked by hand with a closed-form encoder."""
import json

import pytest
import torch
from PIL import Image

from synthrec.config.schema import EvaluateConfig
from synthrec.errors import DataError
from synthrec.evaluate import evaluate_heads
from synthrec.features import create_encoder
from synthrec.testing.tiny_clip import ColourEncoder, build_tiny_open_clip
from synthrec.train import ClassifierHead, zero_shot_head

CLASSES = ["red", "green", "blue"]


def _img(rgb):
    return Image.new("RGB", (5, 5), rgb)


class FakeTestSet(list):
    """A loaded dataset as ``synthrec.datasets.load_dataset`` gives it: (PIL, label) items with ``.classnames``."""

    def __init__(self, items, classnames=CLASSES, broken=()):
        super().__init__(items)
        self.classnames = list(classnames)
        self.broken = set(broken)

    def __getitem__(self, i):
        if i in self.broken:
            raise OSError(f"image file is truncated (item {i})")
        return super().__getitem__(i)


def _data():
    # 3 red (label red), 2 green (label green), 2 blue images labelled green (wrong for any colour head)
    images = [_img((255, 0, 0)), _img((200, 10, 10)), _img((180, 0, 40)), _img((0, 255, 0)), _img((10, 200, 0)),
              _img((0, 0, 255)), _img((0, 20, 220))]
    labels = [0, 0, 0, 1, 1, 1, 1]
    return images, labels


def test_top1_overall_and_per_class(tmp_path):
    enc = ColourEncoder()
    baseline = zero_shot_head(enc, CLASSES, ["a {c} thing."])
    # "tuned": a head whose rows are rolled, so red images are called green, green ones blue, blue ones red
    tuned = ClassifierHead.from_weights(baseline.linear.weight.roll(1, dims=0), meta={"classnames": CLASSES})
    images, labels = _data()
    m = evaluate_heads(enc, {"baseline": baseline, "tuned": tuned}, (images, labels), CLASSES, tmp_path / "cache",
                       out_dir=tmp_path, progress=False)
    b, t = m["heads"]["baseline"], m["heads"]["tuned"]
    assert b["top1"] == pytest.approx(5 / 7) and b["correct"] == 5 and b["n"] == 7
    assert b["per_class"]["red"] == {"top1": 1.0, "correct": 3, "n": 3}
    assert b["per_class"]["green"] == {"top1": 0.5, "correct": 2, "n": 4}
    assert b["per_class"]["blue"] == {"top1": None, "correct": 0, "n": 0}  # no test image: no made-up number
    assert t["per_class"]["green"]["correct"] == 0 and t["per_class"]["red"]["correct"] == 0
    assert t["top1"] == 0.0
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk == m and on_disk["n_images"] == 7 and on_disk["classnames"] == CLASSES
    # a second evaluation (a new head) re-uses the cached test features
    again = ColourEncoder()
    evaluate_heads(again, {"baseline": baseline}, (images, labels), CLASSES, tmp_path / "cache", progress=False)
    assert again.n_encoded == 0


def test_dataset_object_and_its_checks(tmp_path):
    enc = ColourEncoder()
    head = zero_shot_head(enc, CLASSES, ["a {c} thing."])
    images, labels = _data()
    ds = FakeTestSet(list(zip(images, labels)))
    assert evaluate_heads(enc, {"b": head}, ds, CLASSES, None, progress=False)["heads"]["b"]["correct"] == 5
    with pytest.raises(DataError, match="class names differ"):
        evaluate_heads(enc, {"b": head}, FakeTestSet(list(zip(images, labels)), ["green", "red", "blue"]), CLASSES, None)
    with pytest.raises(DataError, match="another encoder|encoder"):
        evaluate_heads(ColourEncoder(variant="other"), {"b": head}, ds, CLASSES, None)
    with pytest.raises(DataError, match="other class names"):
        evaluate_heads(enc, {"b": head}, (images, labels), ["red", "blue", "green"], None)


def test_corrupt_test_image_is_an_error_unless_skipped(tmp_path):
    enc = ColourEncoder()
    head = zero_shot_head(enc, CLASSES, ["a {c} thing."])
    images, labels = _data()
    ds = FakeTestSet(list(zip(images, labels)), broken={3})
    with pytest.raises(DataError, match="test image 3.*skip_corrupt"):
        evaluate_heads(enc, {"b": head}, ds, CLASSES, None)
    m = evaluate_heads(enc, {"b": head}, ds, CLASSES, None, cfg=EvaluateConfig(skip_corrupt=True), progress=False)
    assert m["n_skipped"] == 1 and m["n_images"] == 6 and m["heads"]["b"]["per_class"]["green"]["n"] == 3


def test_with_a_real_encoder(tmp_path):
    enc = create_encoder(build_tiny_open_clip(tmp_path / "clip"), device="cpu")
    images, labels = _data()
    head = zero_shot_head(enc, CLASSES, ["a photo of a {c}."])
    m = evaluate_heads(enc, {"baseline": head}, (images, labels), CLASSES, tmp_path / "cache", progress=False)
    preds = (enc.encode_images(images) @ head.linear.weight.T).argmax(1)
    assert m["heads"]["baseline"]["correct"] == int((preds == torch.tensor(labels)).sum())
