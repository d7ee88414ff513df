import json

import pytest
from PIL import Image

from synthrec.errors import DataError
from synthrec.fewshot.sampling import class_orders, draw_decodable, sample_shots, write_shots


def _labels(per_class=(20, 20, 20)):
    return [c for c, n in enumerate(per_class) for _ in range(n)]


def test_same_seed_same_shots_and_class_balanced():
    labels = _labels((20, 7, 33))
    a = sample_shots(labels, 4, seed=3)
    b = sample_shots(labels, 4, seed=3)
    assert a == b
    assert sorted(a) == [0, 1, 2]
    for c, idx in a.items():
        assert len(idx) == 4 and len(set(idx)) == 4
        assert all(labels[i] == c for i in idx)
    assert sample_shots(labels, 4, seed=4) != a


def test_smaller_draws_are_prefixes_and_ids_fix_the_order():
    labels = _labels()
    big, small = sample_shots(labels, 8, 0), sample_shots(labels, 2, 0)
    assert all(big[c][:2] == small[c] for c in small)
    # the same files listed in another order give the same chosen files
    ids = [f"img{i:03d}.png" for i in range(len(labels))]
    perm = list(reversed(range(len(labels))))
    a = sample_shots(labels, 3, 1, ids=ids)
    b = sample_shots([labels[i] for i in perm], 3, 1, ids=[ids[i] for i in perm])
    assert {c: {ids[i] for i in v} for c, v in a.items()} == {c: {ids[perm[i]] for i in v} for c, v in b.items()}


def test_k_larger_than_a_class_is_one_line_error():
    with pytest.raises(DataError, match=r"class 1 \('b'\) has 3 real images but 4 shots") as e:
        sample_shots(_labels((10, 3, 10)), 4, 0, classnames=["a", "b", "c"])
    assert "\n" not in str(e.value) and "fewshot.shots" in str(e.value)


def test_class_without_images_is_an_error():
    with pytest.raises(DataError, match="class 2 has no real images"):
        sample_shots([0, 0, 1, 1, 3, 3], 1, 0, num_classes=4)


def test_undecodable_image_error_and_skip(tmp_path):
    labels = _labels((3, 3))
    orders = class_orders(labels, 0)
    bad = orders[0][0]

    def decode(i):
        if i == bad:
            raise OSError("truncated file")
        return Image.new("L", (4, 4), i)

    with pytest.raises(DataError, match="cannot be decoded.*truncated.*skip_corrupt") as e:
        draw_decodable(orders, 2, decode, skip_corrupt=False, describe=lambda i: f"f{i}.png")
    assert "\n" not in str(e.value) and f"f{bad}.png" in str(e.value)
    got = draw_decodable(orders, 2, decode, skip_corrupt=True)
    assert [i for i, _ in got[0]] == orders[0][1:3]  # the next image of the same order replaces the bad one
    with pytest.raises(DataError, match="only 2 decodable"):
        draw_decodable(orders, 3, decode, skip_corrupt=True)


def test_write_shots(tmp_path):
    labels = _labels((5, 5))
    ids = [f"x/{i}.png" for i in range(10)]
    shots = sample_shots(labels, 2, 7, ids=ids)
    path = write_shots(tmp_path, 2, 7, shots, ids, classnames=["a", "b"])
    assert path.name == "shots-k2-seed7.json"
    data = json.loads(path.read_text())
    assert data["k"] == 2 and data["seed"] == 7 and len(data["shots"]) == 4
    assert {s["id"] for s in data["shots"]} == {ids[i] for v in shots.values() for i in v}
