"""Tiny fake copies of each benchmark dataset's on-disk layout, as the real archives (and torchvision) lay them out.

Every image is a 4x4 PNG whose first pixel encodes which class folder it was written for: red * 256 + green is the
index into the layout's key list. A test can then decode any sample a loader returns and check that the label the
loader gave it names the class the image was filed under, end to end (index, split file, decoding).
All layouts share one root, as a user's data folder would, so zero-shot and few-shot entries read the same files.
"""
from __future__ import annotations

import io
import json
import pickle
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from synthrec.datasets import _names

MARK = 77  # blue channel of every fake image, so a decoded pixel is recognisably ours


@cache
def png(code: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (code // 256, code % 256, MARK)).save(buf, format="PNG")
    return buf.getvalue()


def code_of(img: Image.Image) -> int:
    r, g, b = img.convert("RGB").getpixel((0, 0))
    assert b == MARK, "not a fake image"
    return r * 256 + g


def put(path: Path, code: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(code))
    return path.name


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def coop_split(path: Path, train, val, test) -> None:
    """CoOp's split_zhou_*.json: lists of [relative path, label, classname]."""
    write_json(path, {"train": train, "val": val, "test": test})


# --------------------------------------------------------------------------------------------------------------------
def cifar(root: Path, hundred: bool) -> list[str]:
    keys = list(_names.table("cifar100" if hundred else "cifar10")[0])
    n = len(keys)
    codes = np.arange(n)
    data = np.zeros((n, 3, 32, 32), dtype=np.uint8)
    data[:, 0] = (codes // 256)[:, None, None]
    data[:, 1] = (codes % 256)[:, None, None]
    data[:, 2] = MARK
    flat = data.reshape(n, 3072)
    label_key = "fine_labels" if hundred else "labels"
    base = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    base.mkdir(parents=True)
    # CIFAR's python release is pickled dicts; this writes that format, it reads nothing untrusted.
    files = ["train", "test"] if hundred else [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for f in files:
        (base / f).write_bytes(pickle.dumps({"data": flat, label_key: codes.tolist()}))
    meta = {"fine_label_names": keys} if hundred else {"label_names": keys}
    (base / ("meta" if hundred else "batches.meta")).write_bytes(pickle.dumps(meta))
    return keys


def caltech101(root: Path, big: dict[str, int]) -> list[str]:
    keys = sorted(["BACKGROUND_Google", *_names.table("caltech101")[0]])  # every folder of the archive
    images = root / "caltech101" / "101_ObjectCategories"
    for code, key in enumerate(keys):
        for i in range(1, big.get(key, 1) + 1):
            put(images / key / f"image_{i:04d}.jpg", code)
    # CoOp: 100 classes (no BACKGROUND_Google, no Faces_easy), labels in sorted folder order, its own names.
    coop_keys = _names.table("caltech101_coop")[0]
    raw = {"airplanes": "airplane", "Faces": "face", "Leopards": "leopard", "Motorbikes": "motorbike"}
    items = [[f"{k}/image_0001.jpg", y, raw.get(k, k)] for y, k in enumerate(coop_keys)]
    coop_split(root / "caltech101" / "split_zhou_Caltech101.json", items, items, items)
    return keys


def caltech256(root: Path, big: dict[str, int]) -> list[str]:
    keys = list(_names.table("caltech256")[0])
    images = root / "caltech256" / "256_ObjectCategories"
    for code, key in enumerate(keys):
        for i in range(1, big.get(key, 1) + 1):
            put(images / key / f"{code + 1:03d}_{i:04d}.jpg", code)
    return keys


def imagenet_family(root: Path) -> list[str]:
    keys = list(_names.table("imagenet")[0])
    r_wnids = set(_names.id_list("imagenet_r_wnids"))
    for code, wnid in enumerate(keys):
        put(root / "imagenet" / "train" / wnid / f"{wnid}_1.JPEG", code)
        put(root / "imagenet" / "val" / wnid / f"ILSVRC2012_val_{code:08d}.JPEG", code)
        put(root / "sketch" / wnid / "sketch_1.JPEG", code)
        if wnid in r_wnids:
            put(root / "imagenet-r" / wnid / "art_1.jpg", code)
    (root / "imagenet-r" / "README.txt").write_text("ImageNet-R\n")
    return keys


def sun397(root: Path) -> list[str]:
    keys = list(_names.table("sun397")[0])
    base = root / "SUN397"
    base.mkdir(parents=True)
    (base / "ClassName.txt").write_text("".join(f"/{k[0]}/{k}\n" for k in keys))
    train, val, test = [], [], []
    for code, key in enumerate(keys):
        coop_name = " ".join(key.split("/")[::-1])
        for tag, lists in (("a", (train, test)), ("b", (val, test))):
            rel = f"{key[0]}/{key}/sun_{tag}{code:04d}.jpg"
            put(base / rel, code)
            for lst in lists:
                lst.append([rel, code, coop_name])
    coop_split(base / "split_zhou_SUN397.json", train, val, test)
    return keys


def aircraft(root: Path) -> list[str]:
    keys = list(_names.table("aircraft")[0])
    data = root / "fgvc-aircraft-2013b" / "data"
    (data / "images").mkdir(parents=True)
    (data / "variants.txt").write_text("".join(f"{k}\n" for k in keys))
    lines = {"train": [], "val": [], "test": []}
    for code, key in enumerate(keys):
        for s, split in enumerate(lines):
            image_id = f"{1000000 + 3 * code + s}"
            put(data / "images" / f"{image_id}.jpg", code)
            lines[split].append(f"{image_id} {key}\n")
    lines["trainval"] = lines["train"] + lines["val"]
    for split, rows in lines.items():
        (data / f"images_variant_{split}.txt").write_text("".join(rows))
    return keys


def birdsnap(root: Path) -> list[str]:
    keys = list(_names.table("birdsnap")[0])
    for code, key in enumerate(keys):
        for split in ("test", "train"):
            put(root / "birdsnap" / split / key / f"{code}.jpg", code)
    return keys


def cars(root: Path) -> list[str]:
    from scipy.io import savemat

    keys = list(_names.table("cars")[0])
    names = _names.table("cars")[1]
    base = root / "stanford_cars"
    (base / "devkit").mkdir(parents=True)
    savemat(base / "devkit" / "cars_meta.mat", {"class_names": np.array(keys, dtype=object)[None, :]})
    coop = {"train": [], "test": []}
    for split, mat in (("train", base / "devkit" / "cars_train_annos.mat"),
                       ("test", base / "cars_test_annos_withlabels.mat")):
        ann = np.zeros((1, len(keys)), dtype=[("fname", "O"), ("class", "O")])
        for code in range(len(keys)):
            fname = f"{code + 1:05d}.jpg"
            put(base / f"cars_{split}" / fname, code)
            ann[0, code] = (fname, np.array([[code + 1]]))
            coop[split].append([f"cars_{split}/{fname}", code, names[code]])
        savemat(mat, {"annotations": ann})
    coop_split(base / "split_zhou_StanfordCars.json", coop["train"], coop["train"], coop["test"])
    return keys


def cub(root: Path) -> list[str]:
    keys = list(_names.table("cub")[0])
    base = root / "CUB_200_2011"
    images, labels, split = [], [], []
    for code, key in enumerate(keys):
        for is_train in (1, 0):
            image_id = len(images) + 1
            rel = f"{key}/{key.split('.', 1)[1]}_{image_id:04d}.jpg"
            put(base / "images" / rel, code)
            images.append(f"{image_id} {rel}\n")
            labels.append(f"{image_id} {code + 1}\n")
            split.append(f"{image_id} {is_train}\n")
    (base / "classes.txt").write_text("".join(f"{i + 1} {k}\n" for i, k in enumerate(keys)))
    (base / "images.txt").write_text("".join(images))
    (base / "image_class_labels.txt").write_text("".join(labels))
    (base / "train_test_split.txt").write_text("".join(split))
    return keys


def flowers(root: Path) -> list[str]:
    from scipy.io import savemat

    keys = list(_names.table("flowers")[0])
    base = root / "flowers-102"
    labels, ids = [], {"trnid": [], "valid": [], "tstid": []}
    for code in range(len(keys)):
        for which in ids:
            image_id = len(labels) + 1
            put(base / "jpg" / f"image_{image_id:05d}.jpg", code)
            labels.append(code + 1)
            ids[which].append(image_id)
    savemat(base / "imagelabels.mat", {"labels": np.array(labels)[None, :]})
    savemat(base / "setid.mat", {k: np.array(v)[None, :] for k, v in ids.items()})
    return keys


def food101(root: Path) -> list[str]:
    keys = list(_names.table("food101")[0])
    base = root / "food-101"
    meta = {"train": {}, "test": {}}
    for code, key in enumerate(keys):
        for split in meta:
            stem = f"{code}{split[:2]}"
            put(base / "images" / key / f"{stem}.jpg", code)
            meta[split][key] = [f"{key}/{stem}"]
    for split, m in meta.items():
        write_json(base / "meta" / f"{split}.json", m)
    return keys


def pets(root: Path) -> list[str]:
    keys = list(_names.table("pets")[0])
    base = root / "oxford-iiit-pet"
    rows = {"trainval": [], "test": []}
    coop = {"trainval": [], "test": []}
    for code, key in enumerate(keys):
        # The archive capitalises cat breeds ("Abyssinian_1") but not dog breeds ("beagle_1"): test both spellings.
        breed = key.replace(" ", "_") if code % 2 == 0 else key.replace(" ", "_").lower()
        for n, split in enumerate(rows, start=1):
            image_id = f"{breed}_{n}"
            put(base / "images" / f"{image_id}.jpg", code)
            rows[split].append(f"{image_id} {code + 1} 1 1\n")
            coop[split].append([f"{image_id}.jpg", code, breed.lower()])
    (base / "annotations").mkdir(parents=True)
    for split, lines in rows.items():
        (base / "annotations" / f"{split}.txt").write_text("".join(lines))
    coop_split(base / "split_zhou_OxfordPets.json", coop["trainval"], coop["trainval"], coop["test"])
    return keys


def dtd(root: Path) -> list[str]:
    keys = list(_names.table("dtd")[0])
    data = root / "dtd" / "dtd"
    lines = {"train": [], "val": [], "test": []}
    coop = {"train": [], "val": [], "test": []}
    for code, key in enumerate(keys):
        for n, split in enumerate(lines, start=1):
            rel = f"{key}/{key}_{n:04d}.jpg"
            put(data / "images" / rel, code)
            lines[split].append(f"{rel}\n")
            coop[split].append([rel, code, key])
    (data / "labels").mkdir(parents=True)
    for split, rows in lines.items():
        (data / "labels" / f"{split}1.txt").write_text("".join(rows))
    coop_split(root / "dtd" / "split_zhou_DescribableTextures.json", coop["train"], coop["val"], coop["test"])
    return keys


def eurosat(root: Path) -> list[str]:
    keys, names = _names.table("eurosat")
    base = root / "eurosat"
    coop = {"train": [], "val": [], "test": []}
    for code, key in enumerate(keys):
        for n, split in enumerate(coop, start=1):
            rel = f"{key}/{key}_{n}.jpg"
            put(base / "2750" / rel, code)
            coop[split].append([rel, code, names[code]])
    coop_split(base / "split_zhou_EuroSAT.json", coop["train"], coop["val"], coop["test"])
    return list(keys)


# Which layout each registered dataset reads.
LAYOUT_OF = {
    "cifar10": "cifar10", "cifar100": "cifar100", "caltech101": "caltech101", "caltech101_fewshot": "caltech101",
    "caltech256": "caltech256", "imagenet": "imagenet", "imagenet_fewshot": "imagenet",
    "imagenet_sketch": "imagenet", "imagenet_r": "imagenet", "sun397": "sun397", "sun397_fewshot": "sun397",
    "aircraft": "aircraft", "aircraft_fewshot": "aircraft", "birdsnap": "birdsnap", "cars": "cars",
    "cars_fewshot": "cars", "cub": "cub", "flowers": "flowers", "food101": "food101", "pets": "pets",
    "pets_fewshot": "pets", "dtd": "dtd", "dtd_fewshot": "dtd", "eurosat": "eurosat", "eurosat_fewshot": "eurosat",
}

# Classes with enough images to fall into the Caltech test splits (the first 30 / 60 of a class train).
CALTECH101_BIG = {"Faces": 32, "accordion": 31, "yin_yang": 33}
CALTECH256_BIG = {"001.ak47": 61, "257.clutter": 62}


def build_all(root: Path) -> dict[str, list[str]]:
    """Write every layout under ``root``; return each layout's key list (the meaning of the image codes)."""
    return {
        "cifar10": cifar(root, hundred=False),
        "cifar100": cifar(root, hundred=True),
        "caltech101": caltech101(root, CALTECH101_BIG),
        "caltech256": caltech256(root, CALTECH256_BIG),
        "imagenet": imagenet_family(root),
        "sun397": sun397(root),
        "aircraft": aircraft(root),
        "birdsnap": birdsnap(root),
        "cars": cars(root),
        "cub": cub(root),
        "flowers": flowers(root),
        "food101": food101(root),
        "pets": pets(root),
        "dtd": dtd(root),
        "eurosat": eurosat(root),
    }
