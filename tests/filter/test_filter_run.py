"""run_filter end to end: files on disk, a corrupt one, a duplicate, scores and selection written, cache re-used."""
import logging
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from synthrec.config.schema import FilterConfig
from synthrec.errors import ConfigError
from synthrec.features import encode_with_cache
from synthrec.filter import FilterItem, items_from_files, run_filter
from synthrec.filter.items import cache_items
from synthrec.testing.tiny_clip import ColourEncoder, build_tiny_open_clip

CLASSES = ["red", "green", "blue"]


@pytest.fixture
def folder(tmp_path):
    """class 0 (red): pure red, a red copy, orange-ish; class 1 (green): green, yellow; class 2: blue, a broken file."""
    spec = {"red/a.png": (255, 0, 0), "red/b.png": (255, 0, 0), "red/c.png": (250, 120, 0),
            "green/a.png": (0, 255, 0), "green/b.png": (255, 255, 0), "blue/a.png": (0, 0, 255)}
    for rel, rgb in spec.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), rgb).save(tmp_path / rel)
    (tmp_path / "blue/broken.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    files = [(tmp_path / rel, CLASSES.index(rel.split("/")[0])) for rel in [*spec, "blue/broken.png"]]
    return tmp_path, items_from_files(files, root=tmp_path)


def _p(rgb, c, scale=10.0):
    v = torch.nn.functional.normalize(torch.tensor(rgb, dtype=torch.float32), dim=0)
    z = [scale * float(v[j]) for j in range(3)]
    return math.exp(z[c]) / sum(math.exp(x) for x in z)


def test_scores_selection_and_reports(folder, tmp_path, caplog):
    _, items = folder
    enc = ColourEncoder()
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        res = run_filter(items, CLASSES, FilterConfig(), out, seed=0, encoder=enc, cache_dir=tmp_path / "cache",
                         templates=["a {c} thing."], progress=False)
    assert "broken.png" in caplog.text
    scores = pq.read_table(out / "scores.parquet").to_pydict()
    assert {"image_id", "class_id", "p_true", "p_max", "argmax", "sha256", "duplicate", "kept", "error",
            "selected_by", "source"} <= set(scores)
    row = {iid: i for i, iid in enumerate(scores["image_id"])}
    assert scores["p_true"][row["red/a.png"]] == pytest.approx(_p((255, 0, 0), 0), rel=1e-5)
    assert scores["p_true"][row["green/b.png"]] == pytest.approx(_p((255, 255, 0), 1), rel=1e-5)
    assert scores["argmax"][row["green/b.png"]] == 0  # yellow: red and green tie, argmax takes the first
    assert scores["duplicate"][row["red/b.png"]] and not scores["kept"][row["red/b.png"]]
    broken = row["blue/broken.png"]
    assert "broken.png" in scores["error"][broken] and not scores["kept"][broken] and math.isnan(scores["p_true"][broken])
    # threshold 1/3: yellow (p = 0.5) passes for green, orange (p_red ~ 0.99) passes
    assert sorted(res.selection.column("image_id").to_pylist()) == ["blue/a.png", "green/a.png", "green/b.png",
                                                                     "red/a.png", "red/c.png"]
    assert pq.read_table(out / "selection.parquet").num_rows == 5
    assert res.summary["threshold"] == pytest.approx(1 / 3) and res.summary["n_undecodable"] == 1
    assert res.summary["per_class"][0] == {"class_id": 0, "name": "red", "images": 3, "undecodable": 0,
                                           "duplicates": 1, "kept": 2, "filled_below_threshold": 0}
    # CF and CT share features: training re-uses what the filter encoded
    again = ColourEncoder()
    kept = [items[i] for i in res.kept]
    encode_with_cache(again, cache_items(kept), tmp_path / "cache")
    assert again.n_encoded == 0


def test_threshold_cap_and_fill(folder, tmp_path):
    _, items = folder
    cfg = FilterConfig(threshold=0.6, per_class_cap=1, fill_to_cap=True)
    res = run_filter(items, CLASSES, cfg, tmp_path / "o", seed=3, encoder=ColourEncoder(), progress=False)
    by_class = {}
    for iid, c, why in zip(*(res.selection.column(k).to_pylist() for k in ("image_id", "class_id", "selected_by"))):
        by_class.setdefault(c, []).append((iid, why))
    assert len(by_class[0]) == 1 and by_class[0][0][1] == "random_subset"  # 2 pass 0.6, cap 1
    assert by_class[1] == [("green/a.png", "threshold")]
    with pytest.raises(ConfigError, match="per_class_cap"):
        run_filter(items, CLASSES, FilterConfig(fill_to_cap=True), tmp_path / "x", seed=0, encoder=ColourEncoder())


def test_disabled_filter_keeps_every_decodable_unique_image(folder, tmp_path):
    _, items = folder
    res = run_filter(items, CLASSES, FilterConfig(enabled=False), tmp_path / "o", seed=0, encoder=ColourEncoder(),
                     progress=False)
    assert res.summary["n_kept"] == 5 and res.summary["threshold"] is None
    assert set(res.selection.column("selected_by").to_pylist()) == {"unfiltered"}


def test_scoring_in_slices_changes_nothing(folder, tmp_path, monkeypatch):
    import synthrec.filter.run as filter_run

    _, items = folder
    whole = run_filter(items, CLASSES, FilterConfig(), tmp_path / "a", seed=0, encoder=ColourEncoder(), progress=False)
    monkeypatch.setattr(filter_run, "_SLICE", 2)  # large runs are encoded and scored slice by slice
    sliced = run_filter(items, CLASSES, FilterConfig(), tmp_path / "b", seed=0, encoder=ColourEncoder(),
                        progress=False)
    for name in whole.scores.column_names:  # NaN-aware: the broken image's scores are NaN in both
        np.testing.assert_array_equal(sliced.scores.column(name).to_numpy(zero_copy_only=False),
                                      whole.scores.column(name).to_numpy(zero_copy_only=False))


def test_real_encoder_batched_equals_one_at_a_time(folder, tmp_path):
    _, items = folder
    spec = build_tiny_open_clip(tmp_path / "clip")
    good = [it for it in items if "broken" not in it.image_id]
    one = run_filter(good, CLASSES, FilterConfig(batch_size=1), tmp_path / "a", seed=0, encoder=spec, progress=False)
    many = run_filter(good, CLASSES, FilterConfig(batch_size=64), tmp_path / "b", seed=0, encoder=spec,
                      progress=False)
    p1, p64 = one.scores.column("p_true").to_pylist(), many.scores.column("p_true").to_pylist()
    assert p1 == pytest.approx(p64, abs=1e-5)


def test_bad_items_are_refused(tmp_path):
    im = Image.new("RGB", (4, 4))
    item = FilterItem("x", 7, "0" * 64, lambda: im)
    from synthrec.errors import DataError

    with pytest.raises(DataError, match="class id 7"):
        run_filter([item], CLASSES, FilterConfig(), tmp_path, seed=0, encoder=ColourEncoder())
    with pytest.raises(DataError, match="sha256"):
        run_filter([FilterItem("x", 0, "nope", lambda: im)], CLASSES, FilterConfig(), tmp_path, seed=0,
                   encoder=ColourEncoder())
