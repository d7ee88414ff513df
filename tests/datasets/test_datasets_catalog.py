"""The registry: 25 benchmark entries plus digits, with label spaces, prompts and splits that hold together."""
from pathlib import Path

import pytest

from synthrec.datasets import DatasetInfo, get_dataset_info, list_datasets
from synthrec.errors import ConfigError

ZERO_SHOT = {  # paper Table 1, with the number of classes of each label space
    "cifar10": 10, "cifar100": 100, "caltech101": 101, "caltech256": 257, "imagenet": 1000, "sun397": 397,
    "aircraft": 100, "birdsnap": 500, "cars": 196, "cub": 200, "flowers": 102, "food101": 101, "pets": 37,
    "dtd": 47, "eurosat": 10, "imagenet_sketch": 1000, "imagenet_r": 200,
}
FEW_SHOT = {  # the CoOp suite of paper §3.2
    "imagenet_fewshot": 1000, "caltech101_fewshot": 100, "pets_fewshot": 37, "cars_fewshot": 196,
    "aircraft_fewshot": 100, "sun397_fewshot": 397, "dtd_fewshot": 47, "eurosat_fewshot": 10,
}
COOP_EUROSAT = ("Annual Crop Land", "Forest", "Herbaceous Vegetation Land", "Highway or Road", "Industrial Buildings",
                "Pasture Land", "Permanent Crop Land", "Residential Buildings", "River", "Sea or Lake")


def test_the_25_entries_and_digits_are_registered():
    assert set(list_datasets()) == set(ZERO_SHOT) | set(FEW_SHOT) | {"digits"}
    assert set(list_datasets(setting="zero-shot")) == set(ZERO_SHOT) | {"digits"}
    assert set(list_datasets(setting="few-shot")) == set(FEW_SHOT) | {"digits"}
    assert list_datasets("imagenet*") == ["imagenet", "imagenet_fewshot", "imagenet_r", "imagenet_sketch"]


@pytest.mark.parametrize("name", sorted({**ZERO_SHOT, **FEW_SHOT}))
def test_each_entry_is_consistent(name):
    info = get_dataset_info(name)
    assert isinstance(info, DatasetInfo)
    assert info.num_classes == {**ZERO_SHOT, **FEW_SHOT}[name]
    assert len(info.class_keys) == info.num_classes
    assert info.label_space().names == info.classnames  # distinct, non-empty, no control characters
    assert info.test_split in info.splits
    if name in FEW_SHOT:
        assert info.settings == {"few-shot"} and info.fewshot_train_split in info.splits
        assert info.fewshot_train_split != info.test_split
    else:
        assert info.settings == {"zero-shot"} and info.fewshot_train_split is None
        assert set(info.paper) == {"clip_rn50", "syn_rn50", "clip_vitb16", "syn_vitb16"}
    for t in info.simple_templates + info.clip_templates:
        assert t.count("{}") == 1
    prompts = info.prompts("clip")
    assert len(prompts) == info.num_classes and all(len(p) == len(info.clip_templates) for p in prompts)
    assert info.layout and "\n" not in info.layout
    assert set(info.split_sizes) <= set(info.splits)
    if not info.downloadable:
        assert info.source == "imagefolder" or name.startswith("cars")


def test_paper_simple_prompts():
    assert get_dataset_info("eurosat").simple_templates == ("a centered satellite photo of {}.",)
    assert get_dataset_info("dtd").simple_templates == ("{} texture.",)
    assert get_dataset_info("aircraft").simple_templates == ("a photo of a {}, a type of aircraft.",)
    assert get_dataset_info("cifar10").simple_templates == ("a photo of a {}.",)
    assert get_dataset_info("imagenet").prompts()[0] == ["a photo of a tench."]
    assert len(get_dataset_info("imagenet").clip_templates) == 80
    assert get_dataset_info("eurosat").domain == "satellite photo"


def test_imagenet_head_is_clips_7_template_ensemble_and_others_the_simple_prompt():
    # The paper's ImageNet baseline (60.33) is zero-shot CLIP with CLIP's 7-template ImageNet ensemble.
    imagenet = get_dataset_info("imagenet")
    assert len(imagenet.head_templates) == 7 and set(imagenet.head_templates) <= set(imagenet.clip_templates)
    assert "ensemble" in imagenet.notes and imagenet.simple_templates == ("a photo of a {}.",)
    for name in ("cifar10", "eurosat", "dtd", "imagenet_fewshot"):
        assert get_dataset_info(name).head_templates == get_dataset_info(name).simple_templates


def test_le_prefix_comes_from_the_registry():
    assert get_dataset_info("eurosat").le_prefix == "a centered satellite photo of"
    assert get_dataset_info("eurosat_fewshot").le_prefix == "a centered satellite photo of"
    assert get_dataset_info("cifar10").le_prefix == "a photo of a"
    assert get_dataset_info("digits").le_prefix == "a low-res scan of"


@pytest.mark.parametrize("name,authors", [("dtd", "dtd_fewshot"), ("aircraft", "evaluate.split: val")])
def test_test_splits_that_differ_from_the_authors_say_why_and_how_to_follow_them(name, authors):
    notes = get_dataset_info(name).notes
    assert "authors" in notes and "METHOD.md" in notes and authors in notes


def test_eurosat_names_are_whole_and_on_their_folders():
    # METHOD.md §8.1: the authors stripped a non-existent "a " prefix ("nual crop land", "rest", ...).
    for name in ("eurosat", "eurosat_fewshot"):
        info = get_dataset_info(name)
        assert info.classnames == COOP_EUROSAT
        for folder, cname in zip(info.class_keys, info.classnames):
            assert folder.lower().startswith(cname.split()[0].lower()), (folder, cname)
        assert info.prompts()[1] == ["a centered satellite photo of Forest."]


def test_caltech101_has_no_background_and_names_sit_on_their_folders():
    # METHOD.md §8.1: CLIP's 102 names (with "background") on torchvision's 101 labels shift every name by one.
    info = get_dataset_info("caltech101")
    assert info.num_classes == 101 and "background" not in info.classnames
    pairs = dict(zip(info.class_keys, info.classnames))
    assert "BACKGROUND_Google" not in pairs
    assert pairs["Faces"] == "off-center face" and pairs["Faces_easy"] == "centered face"
    assert pairs["accordion"] == "accordion" and pairs["airplanes"] == "airplane"
    assert pairs["car_side"] == "side of a car" and pairs["yin_yang"] == "yin and yang symbol"
    assert info.class_keys == tuple(sorted(info.class_keys))  # torchvision's sorted folder order
    coop = get_dataset_info("caltech101_fewshot")
    assert coop.class_keys[:4] == ("Faces", "Leopards", "Motorbikes", "accordion")
    assert coop.classnames[:4] == ("face", "leopard", "motorbike", "accordion")
    assert "Faces_easy" not in coop.class_keys and "BACKGROUND_Google" not in coop.class_keys


def test_imagenet_r_is_imagenets_names_for_its_200_wnids():
    full = get_dataset_info("imagenet")
    r = get_dataset_info("imagenet_r")
    assert r.num_classes == 200 and list(r.class_keys) == sorted(r.class_keys)
    by_wnid = dict(zip(full.class_keys, full.classnames))
    assert all(by_wnid[w] == n for w, n in zip(r.class_keys, r.classnames))
    known = {"n01443537": "goldfish", "n02129165": "lion", "n07697313": "cheeseburger", "n09472597": "volcano",
             "n12267677": "acorn", "n02106662": "German Shepherd Dog"}
    assert {w: dict(zip(r.class_keys, r.classnames))[w] for w in known} == known
    assert "n01440764" not in r.class_keys  # tench is not one of ImageNet-R's classes


def test_imagenet_label_order_is_sorted_wnids():
    info = get_dataset_info("imagenet")
    assert info.class_keys[0] == "n01440764" and info.classnames[0] == "tench"
    assert list(info.class_keys) == sorted(info.class_keys)
    assert info.classnames[-1] == "toilet paper"


def test_flowers_names_are_torchvisions():
    from torchvision.datasets import Flowers102

    assert get_dataset_info("flowers").classnames == tuple(Flowers102.classes)


def test_names_follow_the_datasets_own_ids():
    cars = get_dataset_info("cars")
    assert cars.class_keys[0] == "AM General Hummer SUV 2000" and cars.classnames[0] == "2000 AM General Hummer SUV"
    sun = dict(zip(*[get_dataset_info("sun397").class_keys, get_dataset_info("sun397").classnames]))
    assert sun["apartment_building/outdoor"] == "outdoor apartment building" and sun["abbey"] == "abbey"
    food = get_dataset_info("food101")
    assert food.class_keys.index("cheese_plate") + 1 == food.class_keys.index("cheesecake")  # Python's sort
    assert get_dataset_info("cifar100").classnames[1] == "aquarium fish"
    assert get_dataset_info("cub").classnames[0] == "Black footed Albatross"


def test_unknown_names_settings_and_templates_are_config_errors():
    with pytest.raises(ConfigError, match="choose one of: aircraft") as err:
        get_dataset_info("eurosatt")
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="zero-shot"):
        list_datasets(setting="one-shot")
    assert list_datasets(setting="few_shot") == list_datasets(setting="few-shot")
    with pytest.raises(ConfigError):
        get_dataset_info("dtd").prompts("fancy")


def test_docs_table_lists_every_dataset():
    doc = (Path(__file__).parents[2] / "docs" / "datasets.md").read_text(encoding="utf-8")
    for name in list_datasets():
        assert f"`{name}`" in doc, name
