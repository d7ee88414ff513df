"""`synthrec export`, each format read back by the library that owns it."""
from __future__ import annotations

import io
import json
import tarfile

import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthrec.cli.app import app

runner = CliRunner()


def _export(run_dir, fmt, out, *extra):
    res = runner.invoke(app, ["export", str(run_dir), "--format", fmt, "--out", str(out), *map(str, extra)])
    assert res.exit_code == 0, res.output
    return res


def _kept(run_dir):
    rows = pq.read_table(run_dir / "filter" / "scores.parquet").to_pylist()
    return {r["image_id"]: r["class_id"] for r in rows if r["kept"]}


def _generated(run_dir):
    files = sorted((run_dir / "generate" / "manifest").glob("*.parquet"))
    return {r["image_id"]: r for f in files for r in pq.read_table(f).to_pylist()}


def test_imagefolder_export_opens_in_torchvision(finished_run, tmp_path):
    from torchvision.datasets import ImageFolder

    res = _export(finished_run, "imagefolder", tmp_path / "if")
    assert res.stdout.strip().endswith("if")
    ds = ImageFolder(str(tmp_path / "if"), allow_empty=True)  # random tiny CLIP may keep no image of a class
    assert ds.classes == ["000_bird", "001_cat", "002_dog"]
    kept = _kept(finished_run)
    got = {p.rsplit("/", 1)[-1].split(".")[0]: c for p, c in ds.samples}
    assert got == kept
    image, label = ds[0]
    assert isinstance(image, Image.Image) and label == ds.samples[0][1]
    gen = _generated(finished_run)
    first = ds.samples[0][0]
    import hashlib

    assert hashlib.sha256(open(first, "rb").read()).hexdigest() == gen[first.rsplit("/", 1)[-1][:-4]]["sha256"]


def test_webdataset_export_has_cls_and_class_name(finished_run, tmp_path):
    import webdataset as wds

    _export(finished_run, "webdataset", tmp_path / "wds", "--selection", "all", "--shard-size", "5")
    shards = sorted(str(p) for p in (tmp_path / "wds").glob("shard-*.tar"))
    gen = _generated(finished_run)
    assert len(shards) == -(-len(gen) // 5)
    samples = list(wds.WebDataset(shards, shardshuffle=False).decode("pil").to_tuple("__key__", "png", "cls", "json"))
    assert len(samples) == len(gen)
    names = ["bird", "cat", "dog"]
    for key, image, cls, meta in samples:
        assert cls == gen[key]["class_id"] and meta["class_name"] == names[cls]
        assert image.size == (gen[key]["width"], gen[key]["height"])


def test_hf_export_opens_with_load_dataset_with_class_labels(finished_run, tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    _export(finished_run, "hf", tmp_path / "hf")
    ds = datasets.load_dataset(str(tmp_path / "hf"), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.features["label"].names == ["bird", "cat", "dog"]
    kept = _kept(finished_run)
    assert dict(zip(ds["image_id"], ds["label"])) == kept
    assert isinstance(ds[0]["image"], Image.Image)


def test_hf_push_to_hub_flag_uploads_the_same_dataset(finished_run, tmp_path, monkeypatch):
    import datasets

    pushed = {}
    monkeypatch.setattr(datasets.Dataset, "push_to_hub",
                        lambda self, repo_id, **kw: pushed.update(repo=repo_id, rows=self.num_rows, **kw))
    _export(finished_run, "hf", tmp_path / "hf", "--push-to-hub", "me/synthetic-pets")
    assert pushed == {"repo": "me/synthetic-pets", "rows": len(_kept(finished_run)), "private": True}
    res = runner.invoke(app, ["export", str(finished_run), "-f", "parquet", "-o", str(tmp_path / "x"),
                              "--push-to-hub", "me/x"])
    assert res.exit_code != 0 and "--format hf" in res.output


def test_parquet_export_reads_in_pandas_with_image_bytes(finished_run, tmp_path):
    import pandas as pd

    _export(finished_run, "parquet", tmp_path / "pq")
    df = pd.read_parquet(tmp_path / "pq" / "images.parquet")
    kept = _kept(finished_run)
    assert dict(zip(df["image_id"], df["class_id"])) == kept
    assert str(df["class_id"].dtype) == "int64"
    assert set(df["class_name"]) <= {"bird", "cat", "dog"}
    assert all(df["class_name"] == [["bird", "cat", "dog"][c] for c in df["class_id"]])
    img = Image.open(io.BytesIO(df["image"].iloc[0]))
    assert img.size == (df["width"].iloc[0], df["height"].iloc[0])


def test_export_refuses_a_full_folder_and_records_exports(finished_run, tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = runner.invoke(app, ["export", str(finished_run), "-f", "parquet", "-o", str(out)])
    assert res.exit_code == 1 and "not empty" in res.output and "Traceback" not in res.output
    assert (out / "keep.txt").read_text() == "mine"
    _export(finished_run, "parquet", out, "--overwrite")
    assert not (out / "keep.txt").exists() and (out / "images.parquet").is_file()
    info = json.loads((out / "export.json").read_text())
    assert info["selection"] == "filtered" and info["images"] == len(_kept(finished_run))
    recorded = json.loads((finished_run / "exports.json").read_text())
    assert any(e["out"] == str(out.resolve()) and e["format"] == "parquet" for e in recorded)
    assert not list(tmp_path.glob(".full.*"))


def test_export_of_a_folder_that_is_no_run(tmp_path):
    res = runner.invoke(app, ["export", str(tmp_path), "-f", "hf", "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "not a synthrec run folder" in res.output


def test_generated_shards_carry_cls_and_class_name(finished_run):
    gen = _generated(finished_run)
    tar_path = finished_run / "generate" / next(iter(gen.values()))["path"]
    with tarfile.open(tar_path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    key = next(k.split(".")[0] for k in members if k.endswith(".cls"))
    meta = json.loads(members[f"{key}.json"])
    assert int(members[f"{key}.cls"]) == gen[key]["class_id"] == meta["class_id"]
    assert meta["class_name"] == ["bird", "cat", "dog"][meta["class_id"]]


@pytest.mark.parametrize("table,columns", [("prompts/prompts.parquet", ["class_id"]),
                                           ("generate/manifest/shard-00000.parquet", ["class_id"]),
                                           ("filter/scores.parquet", ["class_id", "argmax"]),
                                           ("filter/selection.parquet", ["class_id"])])
def test_every_table_has_class_names_and_int64_ids(finished_run, table, columns):
    import pyarrow as pa

    t = pq.read_table(finished_run / table)
    for col in columns:
        assert t.schema.field(col).type == pa.int64(), (table, col)
    names = ["bird", "cat", "dog"]
    assert t.column("class_name").to_pylist() == [names[c] for c in t.column("class_id").to_pylist()]
