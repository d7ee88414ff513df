"""Every entry loads from a fake copy of its on-disk layout, with ids, names and splits lining up."""
import json
import shutil

import pytest
from fake_dataset_layouts import CALTECH101_BIG, LAYOUT_OF, code_of, eurosat

from synthrec.datasets import LabeledImageDataset, get_dataset_info, list_datasets, load_dataset
from synthrec.errors import ConfigError, DataError

ENTRIES = [n for n in list_datasets() if n != "digits"]


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_loads_every_split_with_aligned_labels(fake_root, name):
    root, layout_keys = fake_root
    info = get_dataset_info(name)
    keys = layout_keys[LAYOUT_OF[name]]
    seen = set()
    for split in info.splits:
        ds = load_dataset(name, root, split)
        assert isinstance(ds, LabeledImageDataset)
        assert (ds.name, ds.split, ds.classnames) == (name, split, info.classnames)
        assert len(ds) > 0
        for img, label in ds:
            assert img.mode in ("RGB", "L")
            # the decoded image says which folder/record it was filed under; the label must name that class
            assert keys[code_of(img)] == info.class_keys[label], (split, label)
        seen.update(ds.labels)
    assert seen == set(range(info.num_classes))  # every class reachable, none beyond the label space
    assert load_dataset(name, root).split == info.test_split


def test_caltech101_loader_skips_background_and_keeps_names_on_images(fake_root):
    root, _ = fake_root
    ds = load_dataset("caltech101", root, "all")
    assert len(ds.classnames) == 101 and "background" not in ds.classnames
    named = {}
    for i in range(len(ds)):
        folder = ds.source_of(i).split("/")[-2]
        named.setdefault(folder, ds.classnames[ds.labels[i]])
    assert "BACKGROUND_Google" not in named
    assert named["Faces"] == "off-center face" and named["accordion"] == "accordion"
    assert named["yin_yang"] == "yin and yang symbol" and named["wrench"] == "wrench"
    assert len(named) == 101


def test_caltech_split_rule_first_30_train_rest_test(fake_root):
    root, _ = fake_root
    test = load_dataset("caltech101", root)  # default: the test split
    counts = {test.classnames[y]: c for y, c in enumerate(test.class_counts()) if c}
    info = get_dataset_info("caltech101")
    names = dict(zip(info.class_keys, info.classnames))
    assert counts == {names[k]: n - 30 for k, n in CALTECH101_BIG.items()}
    train = load_dataset("caltech101", root, "train")
    assert max(train.class_counts()) == 30
    assert len(load_dataset("caltech256", root, "test")) == (61 - 60) + (62 - 60)


def test_eurosat_loader_puts_coop_names_on_folders(fake_root):
    root, _ = fake_root
    for name, split in (("eurosat", "test"), ("eurosat", "all"), ("eurosat_fewshot", "train")):
        ds = load_dataset(name, root, split)
        for i in range(len(ds)):
            folder = ds.source_of(i).split("/")[-2]
            cname = ds.classnames[ds.labels[i]]
            assert folder.lower().startswith(cname.split()[0].lower()), (folder, cname)


def test_imagenet_r_loader_maps_folders_to_imagenet_names(fake_root):
    root, _ = fake_root
    ds = load_dataset("imagenet_r", root)
    assert len(ds.classnames) == 200
    by_folder = {ds.source_of(i).split("/")[-2]: ds.classnames[y] for i, y in enumerate(ds.labels)}
    assert by_folder["n01443537"] == "goldfish" and by_folder["n12267677"] == "acorn"
    assert by_folder["n02129165"] == "lion" and len(by_folder) == 200


def test_digits_builtin():
    info = get_dataset_info("digits")
    test, pool = load_dataset("digits"), load_dataset("digits", split="pool")
    assert (len(test), len(pool)) == (info.split_sizes["test"], info.split_sizes["pool"])
    img, label = test[0]
    assert img.mode == "L" and img.size == (8, 8) and test.classnames[label] == str(label)
    assert info.fewshot_train_split == "pool"


# ---------------------------------------------------------------------------------------------------- errors -----
def _one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_missing_files_say_where_they_go(tmp_path):
    err = pytest.raises(DataError, load_dataset, "imagenet", tmp_path)
    assert "imagenet/{train,val}/<wnid>" in _one_line(err)
    err = pytest.raises(DataError, load_dataset, "cifar10", tmp_path)
    assert "download=True" in _one_line(err) and "cifar-10-batches-py" in _one_line(err)
    err = pytest.raises(DataError, load_dataset, "cub", tmp_path / "nowhere")
    assert "does not exist" in _one_line(err) and "CUB_200_2011" in _one_line(err)
    err = pytest.raises(DataError, load_dataset, "cars", tmp_path, download=True)  # cannot be downloaded: no try
    assert "download=True" not in _one_line(err) and "stanford_cars" in _one_line(err)


def test_missing_coop_split_file_names_it(tmp_path):
    eurosat(tmp_path)
    (tmp_path / "eurosat" / "split_zhou_EuroSAT.json").unlink()
    err = pytest.raises(DataError, load_dataset, "eurosat_fewshot", tmp_path, "train")
    assert "split_zhou_EuroSAT.json" in _one_line(err) and "CoOp" in _one_line(err)
    assert "split='all'" in _one_line(pytest.raises(DataError, load_dataset, "eurosat", tmp_path))
    assert len(load_dataset("eurosat", tmp_path, "all")) == 30


def test_split_file_is_checked_before_any_download(tmp_path):
    # download=True on an empty root must not start fetching gigabytes of images that cannot be used
    err = pytest.raises(DataError, load_dataset, "sun397", tmp_path, download=True)
    assert "split_zhou_SUN397.json" in _one_line(err)
    assert not any(tmp_path.iterdir())


def test_names_are_forgiving_about_case_and_dashes(fake_root):
    root, _ = fake_root
    assert load_dataset("ImageNet-R", root).name == "imagenet_r"
    assert get_dataset_info("EuroSAT").name == "eurosat"


def test_class_list_drift_is_refused(tmp_path):
    eurosat(tmp_path)
    shutil.move(tmp_path / "eurosat" / "2750" / "SeaLake", tmp_path / "eurosat" / "2750" / "Lake")
    err = pytest.raises(DataError, load_dataset, "eurosat", tmp_path, "all")
    assert "does not match" in _one_line(err)


def test_coop_split_with_wrong_names_is_refused(tmp_path):
    eurosat(tmp_path)
    path = tmp_path / "eurosat" / "split_zhou_EuroSAT.json"
    split = json.loads(path.read_text())
    split["test"][0][2] = "nual crop land"  # the authors' mangled name
    path.write_text(json.dumps(split))
    err = pytest.raises(DataError, load_dataset, "eurosat", tmp_path)
    assert "nual crop land" in _one_line(err) and "Annual Crop Land" in _one_line(err)
    split["test"][0][2] = "Annual Crop Land"
    split["test"][0][0] = "../../etc/passwd"
    path.write_text(json.dumps(split))
    assert "unsafe path" in _one_line(pytest.raises(DataError, load_dataset, "eurosat", tmp_path))


def test_bad_arguments_are_config_errors(tmp_path):
    assert "choose one of: test, all" in _one_line(pytest.raises(ConfigError, load_dataset, "eurosat", tmp_path,
                                                                 "validation"))
    assert "needs a data root" in _one_line(pytest.raises(ConfigError, load_dataset, "dtd", None))
    assert "choose one of" in _one_line(pytest.raises(ConfigError, load_dataset, "imagenet-1k", tmp_path))


def test_undecodable_image_in_a_benchmark_names_the_file(tmp_path, caplog):
    eurosat(tmp_path)
    bad = tmp_path / "eurosat" / "2750" / "Forest" / "Forest_1.jpg"
    bad.write_bytes(b"not an image")
    ds = load_dataset("eurosat", tmp_path, "all")
    index = ds.paths.index(str(bad))
    err = pytest.raises(DataError, ds.__getitem__, index)
    assert str(bad) in _one_line(err) and "skip_corrupt=True" in _one_line(err)
    skipped = load_dataset("eurosat", tmp_path, "all", skip_corrupt=True)
    assert len(skipped) == len(ds) - 1 and str(bad) not in skipped.paths
    assert str(bad) in caplog.text


def test_digits_are_read_as_scikit_learn_reads_them_without_importing_it():
    import subprocess
    import sys

    import numpy as np
    from sklearn.datasets import load_digits

    from synthrec.datasets.digits import _read_digits

    pixels, targets = _read_digits()
    ref = load_digits()
    assert np.array_equal(pixels, ref.images) and np.array_equal(targets, ref.target)
    code = ("import sys; from synthrec.datasets.digits import load_digits_split; load_digits_split('pool'); "
            "print('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
