"""load_image_folder: sorted class folders, explicit class lists, corrupt images and empty or missing folders."""
import io
import logging

import pytest
from PIL import Image

from synthrec.datasets import load_image_folder
from synthrec.datasets.base import probe_image
from synthrec.errors import DataError
from synthrec.labels import unique_dirnames


def _img(path, color=(10, 20, 30), fmt="PNG", mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (6, 5), color if mode != "L" else 128).save(path, format=fmt)
    return path


def test_sorted_folders_are_the_classes(tmp_path):
    _img(tmp_path / "dog" / "b.png")
    _img(tmp_path / "dog" / "a.jpg", fmt="JPEG")
    _img(tmp_path / "cat" / "sub" / "c.PNG")  # nested and upper-case extension, as ImageFolder reads them
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    _img(tmp_path / ".hidden" / "x.png")
    ds = load_image_folder(tmp_path)
    assert ds.classnames == ("cat", "dog") and ds.labels == [0, 1, 1]
    assert [p.split("/")[-1] for p in ds.paths] == ["c.PNG", "a.jpg", "b.png"]
    img, label = ds[-1]
    assert img.mode == "RGB" and img.size == (6, 5) and label == 1
    assert ds.class_counts() == [1, 2] and len(list(ds)) == 3
    with pytest.raises(IndexError):
        ds[3]


def test_modes_become_rgb_or_l(tmp_path):
    _img(tmp_path / "a" / "grey.png", mode="L")
    _img(tmp_path / "a" / "rgba.png", color=(1, 2, 3, 4), mode="RGBA")
    _img(tmp_path / "b" / "pal.png", mode="P")
    ds = load_image_folder(tmp_path)
    assert sorted(img.mode for img, _ in ds) == ["L", "RGB", "RGB"]


def test_class_list_reads_named_sanitised_or_numbered_folders(tmp_path):
    names = ["sea lion", "Annual Crop Land", "cat/dog?"]
    _img(tmp_path / "sea lion" / "1.png")  # the name itself
    _img(tmp_path / "Annual_Crop_Land" / "1.png")  # safe_dirname
    _img(tmp_path / unique_dirnames(names)[2] / "1.png")  # synthrec's own "002_cat_dog" form
    ds = load_image_folder(tmp_path, classnames=names)
    assert ds.classnames == tuple(names)
    assert [p.split("/")[-2] for p in ds.paths] == ["sea lion", "Annual_Crop_Land", "002_cat_dog"]
    assert ds.labels == [0, 1, 2]


def test_class_list_mismatches_are_errors(tmp_path):
    _img(tmp_path / "cat" / "1.png")
    _img(tmp_path / "dog" / "1.png")
    with pytest.raises(DataError, match="no folder for class 1 'fox'"):
        load_image_folder(tmp_path, classnames=["cat", "fox"])
    with pytest.raises(DataError, match="match no class name"):
        load_image_folder(tmp_path, classnames=["cat"])


def test_missing_empty_and_imageless_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="holds no images") as err:
        load_image_folder(tmp_path)
    assert "\n" not in str(err.value)


def test_corrupt_image_is_an_error_naming_the_file(tmp_path):
    _img(tmp_path / "cat" / "good.png")
    bad = tmp_path / "cat" / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg")
    ds = load_image_folder(tmp_path)
    with pytest.raises(DataError) as err:
        ds[ds.paths.index(str(bad))]
    assert str(bad) in str(err.value) and "skip_corrupt=True" in str(err.value) and "\n" not in str(err.value)


def test_skip_corrupt_drops_undecodable_and_truncated_files_with_a_warning(tmp_path, caplog):
    _img(tmp_path / "cat" / "good.jpg", fmt="JPEG")
    big = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(big, format="JPEG")
    truncated = tmp_path / "dog" / "truncated.jpg"
    truncated.parent.mkdir()
    truncated.write_bytes(big.getvalue()[: len(big.getvalue()) // 2])
    (tmp_path / "dog" / "empty.png").write_bytes(b"")
    _img(tmp_path / "dog" / "fine.png")
    assert probe_image(truncated) is not None
    with caplog.at_level(logging.WARNING, logger="synthrec.datasets"):
        ds = load_image_folder(tmp_path, skip_corrupt=True)
    assert [p.split("/")[-1] for p in ds.paths] == ["good.jpg", "fine.png"] and ds.labels == [0, 1]
    assert "truncated.jpg" in caplog.text and "empty.png" in caplog.text and "skipped 2 of 4" in caplog.text
    for img, _ in ds:
        assert img.size == (6, 5)


def test_skip_corrupt_with_nothing_decodable_is_an_error(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="none of the 1 images"):
        load_image_folder(tmp_path, skip_corrupt=True)
