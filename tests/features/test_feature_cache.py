"""The feature cache is keyed by (encoder fingerprint, image sha256): never stale, never by a name."""
import hashlib
import os

import numpy as np
import pytest
import torch
from PIL import Image

from synthrec.errors import DataError
from synthrec.features import (
    FeatureCache,
    FileImage,
    InMemoryImage,
    create_encoder,
    encode_items,
    encode_with_cache,
    image_sha256,
)
from synthrec.testing.tiny_clip import ColourEncoder


def _solid(rgb, size=(6, 6)):
    return Image.new("RGB", size, rgb)


def _items(images):
    return [(image_sha256(im), InMemoryImage(im)) for im in images]


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 200, 0)]


def test_second_pass_encodes_nothing_and_returns_the_same(tmp_path):
    enc = ColourEncoder()
    items = _items([_solid(c) for c in COLOURS])
    first = encode_with_cache(enc, items, tmp_path, batch_size=3)
    assert enc.n_encoded == 4
    again = encode_with_cache(ColourEncoder(), items, tmp_path)  # a fresh object: the cache lives on disk
    assert torch.equal(first, again)
    assert torch.allclose(first[0], torch.tensor([1.0, 0.0, 0.0]))
    files = sorted(p.suffix for p in (tmp_path / enc.fingerprint[:32]).iterdir())
    assert set(files) == {".json", ".parquet", ".safetensors"}  # no pickle anywhere


def test_switching_encoder_never_reuses_features(tmp_path):
    items = _items([_solid(c) for c in COLOURS])
    encode_with_cache(ColourEncoder(variant="a"), items, tmp_path)
    other = ColourEncoder(variant="b")  # same name-less images, another model
    encode_with_cache(other, items, tmp_path)
    assert other.n_encoded == 4


def test_changing_one_image_reencodes_only_that_image(tmp_path):
    enc = ColourEncoder()
    images = [_solid(c) for c in COLOURS]
    encode_with_cache(enc, _items(images), tmp_path)
    images[2] = _solid((10, 10, 250))
    enc2 = ColourEncoder()
    feats = encode_with_cache(enc2, _items(images), tmp_path)
    assert enc2.n_encoded == 1
    expected = torch.nn.functional.normalize(torch.tensor([10.0, 10.0, 250.0]), dim=0)
    assert torch.allclose(feats[2], expected, atol=1e-6)


def test_file_bytes_key_and_real_encoder(tmp_path, tiny_open_clip, images):
    """With a real encoder: the cache returns exactly what the encoder computes, and file sha256 keys work."""
    paths = []
    for i, im in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        im.save(paths[-1])
    items = [(hashlib.sha256(p.read_bytes()).hexdigest(), FileImage(p)) for p in paths]
    enc = create_encoder(tiny_open_clip, device="cpu")
    feats = encode_with_cache(enc, items, tmp_path / "cache", batch_size=2)
    direct = enc.encode_images([Image.open(p) for p in paths], batch_size=2)
    assert torch.equal(feats, direct)
    assert torch.equal(encode_with_cache(enc, items, tmp_path / "cache"), feats)


def test_duplicates_are_encoded_once(tmp_path):
    enc = ColourEncoder()
    im = _solid((255, 0, 0))
    feats = encode_with_cache(enc, _items([im, im.copy(), _solid((0, 255, 0))]), None)
    assert enc.n_encoded == 2 and torch.equal(feats[0], feats[1])


def test_corrupt_image_raises_or_is_reported(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    good = _solid((0, 0, 255))
    items = [(image_sha256(good), InMemoryImage(good)), ("0" * 64, FileImage(bad))]
    with pytest.raises(DataError, match="broken.png"):
        encode_with_cache(ColourEncoder(), items, tmp_path / "cache")
    assert FeatureCache(tmp_path / "cache", ColourEncoder()).missing([items[0][0]]) == []  # good work is kept
    res = encode_items(ColourEncoder(), items, tmp_path / "cache", on_error="skip")
    assert list(res.failed) == [1] and "broken.png" in res.failed[1]
    assert torch.isnan(res.features[1]).all() and torch.isfinite(res.features[0]).all()
    assert res.ok.tolist() == [True, False]
    assert FeatureCache(tmp_path / "cache", ColourEncoder()).missing(["0" * 64]) == ["0" * 64]  # never cached


def test_image_sha256_is_content_only():
    a = Image.fromarray(np.zeros((4, 4, 3), np.uint8))
    assert image_sha256(a) == image_sha256(a.copy())
    assert image_sha256(a) != image_sha256(a.convert("L"))
    assert image_sha256(a) != image_sha256(Image.fromarray(np.ones((4, 4, 3), np.uint8)))


def test_decoding_threads_follow_the_decoding_pace_on_cpu():
    from synthrec.features import cache

    enc = ColourEncoder()
    assert cache.decode_workers(enc, 3) == 3  # asked for: kept
    assert cache.decode_workers(enc) == 0  # not yet timed: the calling thread
    assert cache.decode_workers(enc, None, cache.DECODE_THREADS_FROM_SECONDS / 10) == 0  # tiny images
    slow = cache.decode_workers(enc, None, cache.DECODE_THREADS_FROM_SECONDS * 2)
    assert slow == (min(8, os.cpu_count()) if (os.cpu_count() or 1) > 1 else 0)


@pytest.mark.parametrize("threshold", [0.0, 1e9])  # slow decoding (threads) and fast decoding (calling thread)
def test_the_timed_first_images_change_neither_order_nor_features(tmp_path, monkeypatch, threshold):
    from synthrec.features import cache

    images = [_solid((i, 255 - i, (7 * i) % 256)) for i in range(0, 250, 3)]  # 84 distinct images, > the probe
    expected = encode_with_cache(ColourEncoder(), _items(images), tmp_path / "plain", batch_size=20, num_workers=0)
    monkeypatch.setattr(cache, "DECODE_THREADS_FROM_SECONDS", threshold)
    picked = []
    real = cache.decode_workers
    monkeypatch.setattr(cache, "decode_workers", lambda *a: picked.append(real(*a)) or picked[-1])
    got = encode_with_cache(ColourEncoder(), _items(images), tmp_path / "timed", batch_size=20)
    assert torch.equal(got, expected)
    assert len(picked) == 2 and (picked[1] > 0) == (threshold == 0.0 and (os.cpu_count() or 1) > 1)
