"""One writer per export format. Each writes into an empty staging folder; :func:`synthrec.export.export_run` moves
the finished folder into place, so an interrupted export never leaves a half-written one under the target name."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from .. import _io
from .source import ExportRecord, RunImages

# Fixed tar metadata, so the same run exports to byte-identical shards.
_TAR_MTIME = 0
_TAR_OWNER = "synthrec"
HF_DATA_FILE = "data/train-00000-of-00001.parquet"
PARQUET_FILE = "images.parquet"


def _sample_meta(rec: ExportRecord) -> dict[str, Any]:
    return {"image_id": rec.image_id, "class_id": rec.class_id, "class_name": rec.class_name, "prompt": rec.prompt,
            "sha256": rec.sha256, "width": rec.width, "height": rec.height, "p_true": rec.p_true}


def write_imagefolder(images: RunImages, folder: Path, **_: Any) -> dict[str, Any]:
    """``<folder>/<NNN_class>/<image_id>.<ext>``: the folder names sort in class order, so torchvision's
    ImageFolder gives every image its class id."""
    from ..labels import unique_dirnames

    dirs = unique_dirnames(images.classnames)
    for d in dirs:  # every class gets its folder, even one with no kept image, so indices stay aligned
        (folder / d).mkdir(parents=True, exist_ok=True)
    for rec in images:
        _io.write_bytes(folder / dirs[rec.class_id] / f"{rec.image_id}.{rec.image_format}", rec.data)
    return {"class_folders": dirs}


def write_webdataset(images: RunImages, folder: Path, *, shard_size: int = 1000, **_: Any) -> dict[str, Any]:
    """Tar shards ``shard-00000.tar`` ...: per sample the image, ``cls`` (the class id), ``json`` (class name,
    prompt, scores) and ``txt`` (the prompt)."""
    import webdataset as wds

    shards: list[str] = []
    writer = fh = None
    count = 0
    try:
        for rec in images:
            if writer is None or count == shard_size:
                if writer is not None:
                    writer.close()
                    fh.close()
                shards.append(f"shard-{len(shards):05d}.tar")
                fh = open(folder / shards[-1], "wb")
                writer = wds.TarWriter(fh, encoder=False, mtime=_TAR_MTIME, user=_TAR_OWNER, group=_TAR_OWNER)
                count = 0
            writer.write({"__key__": rec.image_id, rec.image_format: rec.data, "cls": str(rec.class_id).encode(),
                          "json": json.dumps(_sample_meta(rec), sort_keys=True, ensure_ascii=False).encode(),
                          "txt": rec.prompt.encode()})
            count += 1
    finally:
        if writer is not None:
            writer.close()
            fh.close()
    _io.write_json(folder / "classes.json", images.classnames)
    return {"shards": shards}


def write_hf(images: RunImages, folder: Path, *, push_to_hub: str | None = None, private: bool = True,
             **_: Any) -> dict[str, Any]:
    """A Hugging Face dataset in the hub's layout (``data/train-*.parquet``, written by ``datasets``), with a
    ClassLabel ``label``; ``datasets.load_dataset(folder)`` opens it. ``push_to_hub``: also upload it to that repo."""
    import datasets

    features = datasets.Features({
        "image": datasets.Image(), "label": datasets.ClassLabel(names=list(images.classnames)),
        "image_id": datasets.Value("string"), "prompt": datasets.Value("string"),
        "p_true": datasets.Value("float64"), "sha256": datasets.Value("string")})

    def rows():
        for rec in images:
            yield {"image": {"bytes": rec.data, "path": f"{rec.image_id}.{rec.image_format}"},
                   "label": rec.class_id, "image_id": rec.image_id, "prompt": rec.prompt, "p_true": rec.p_true,
                   "sha256": rec.sha256}

    cache = folder / ".datasets-cache"
    ds = datasets.Dataset.from_generator(rows, features=features, cache_dir=str(cache))
    (folder / HF_DATA_FILE).parent.mkdir(parents=True, exist_ok=True)
    ds.to_parquet(str(folder / HF_DATA_FILE))
    if push_to_hub:
        ds.push_to_hub(push_to_hub, private=private)
    del ds
    import shutil

    shutil.rmtree(cache, ignore_errors=True)
    return {"data_files": [HF_DATA_FILE], "pushed_to": push_to_hub}


def parquet_schema():
    import pyarrow as pa

    return pa.schema([("image_id", pa.string()), ("class_id", pa.int64()), ("class_name", pa.string()),
                      ("image", pa.binary()), ("image_format", pa.string()), ("prompt", pa.string()),
                      ("sha256", pa.string()), ("width", pa.int32()), ("height", pa.int32()),
                      ("p_true", pa.float64())])


def write_parquet(images: RunImages, folder: Path, *, row_group_size: int = 512, **_: Any) -> dict[str, Any]:
    """One table ``images.parquet``: a row per image with its encoded bytes (``image``) and class name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(folder / PARQUET_FILE, schema) as writer:
        for rec in images:
            batch.append({**_sample_meta(rec), "image": rec.data, "image_format": rec.image_format})
            if len(batch) == row_group_size:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return {"file": PARQUET_FILE}


WRITERS: dict[str, Callable[..., dict[str, Any]]] = {
    "imagefolder": write_imagefolder, "webdataset": write_webdataset, "hf": write_hf, "parquet": write_parquet}
