"""Streaming a pre-training set: WebDataset shards, never unpacked.

Each epoch the shard list is permuted (seeded by the run seed and the epoch), dealt to DDP ranks and then to
DataLoader workers, so every shard, and so every image, is read by exactly one worker of one rank once per epoch.
Samples are shuffled across the shards a worker reads with a buffer (``shuffle_buffer``). All randomness of an epoch
(shard order, buffer, augmentation) derives from ``(seed, epoch, rank, worker)``, so a run resumed at an epoch
boundary sees the same data as an uninterrupted one.

A set folder is what :mod:`synthrec.pretrain.sets` writes (``set.json`` plus the generator's shards); any folder
with ``images/shard-*.tar`` (a ``generate`` stage) or a list of ``.tar`` paths also works, given the class count.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from .. import _io
from ..errors import DataError

SET_INDEX = "set.json"
IMAGE_EXTS = ("png", "jpg", "jpeg", "webp")


@dataclass(frozen=True)
class ShardSet:
    """The shards of one pre-training set, with its class names and image count."""

    shards: tuple[str, ...]
    classnames: tuple[str, ...]
    num_images: int
    folder: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classnames)


def open_set(source: str | Path | Sequence[str], classnames: Sequence[str] | None = None) -> ShardSet:
    """A set folder (``set.json``), a generator output folder, or a list of tar paths; raises DataError if empty."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        folder = Path(source)
        index = folder / SET_INDEX
        if index.is_file():
            info = _io.read_json(index)
            shards = tuple(str(folder / s) for s in info["shards"])
            missing = [s for s in shards if not Path(s).is_file()]
            if missing:
                raise DataError(f"pre-training set {str(folder)!r} lists shard {missing[0]!r} that does not exist",
                                "make the set again (`synthrec pretrain` resumes its generation)")
            if not shards:
                raise DataError(f"pre-training set {str(folder)!r} has no shards", "make the set first")
            return ShardSet(shards, tuple(info["classnames"]), int(info["num_images"]), str(folder))
        shards = tuple(str(p) for p in sorted(folder.glob("images/*.tar")) or sorted(folder.glob("*.tar")))
        where = str(folder)
    elif isinstance(source, (str, Path)):
        if not Path(source).exists():
            raise DataError(f"pre-training set {str(source)!r} does not exist",
                            "give a set folder written by `synthrec pretrain`, or a folder of .tar shards")
        shards, where = (str(source),), str(source)
    else:
        shards, where = tuple(str(s) for s in source), "the given shard list"
    if not shards:
        raise DataError(f"pre-training set {where!r} has no shards (no images/*.tar or *.tar)",
                        "point at a folder of WebDataset shards, e.g. a set made by `synthrec pretrain`")
    if classnames is None:
        raise DataError(f"pre-training set {where!r} has no {SET_INDEX} naming its classes",
                        "make it with synthrec.pretrain.sets, or pass the class names")
    return ShardSet(shards, tuple(classnames), count_images(shards), where)


def count_images(shards: Sequence[str]) -> int:
    """Samples in tar shards, from the tar headers (image members only; no image is decoded)."""
    import tarfile

    keys = 0
    for shard in shards:
        with tarfile.open(shard) as tf:
            keys += sum(1 for m in tf if m.isfile() and m.name.rsplit(".", 1)[-1].lower() in IMAGE_EXTS)
    return keys


def write_set_index(folder: str | Path, shards: Sequence[str | Path], classnames: Sequence[str], num_images: int,
                    **info: Any) -> Path:
    folder = Path(folder)
    rel = [str(Path(s).resolve().relative_to(folder.resolve())) for s in shards]
    path = folder / SET_INDEX
    _io.write_json(path, {"shards": rel, "classnames": list(classnames), "num_images": int(num_images), **info})
    return path


def epoch_seed(*parts: int) -> int:
    """One 63-bit seed from integers (seed, epoch, rank, worker, ...), stable across runs and machines."""
    import numpy as np

    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32).view("<u8")[0]
               >> 1)


def shards_for(shards: Sequence[str], seed: int, epoch: int, rank: int, world_size: int, worker: int,
               num_workers: int) -> list[str]:
    """The shards one worker of one rank reads in ``epoch``: a seeded permutation dealt round-robin."""
    order = list(shards)
    random.Random(epoch_seed(seed, epoch, 17)).shuffle(order)
    return order[rank::world_size][worker::num_workers]


class ShardStream(torch.utils.data.IterableDataset):
    """An IterableDataset of ``(transformed image, class_id, key)`` over a :class:`ShardSet`; call
    :meth:`set_epoch` before each epoch."""

    def __init__(self, shard_set: ShardSet, transform: Callable, *, seed: int = 0, shuffle_buffer: int = 1000,
                 rank: int = 0, world_size: int = 1):
        self.shard_set = shard_set
        self.transform = transform
        self.seed = int(seed)
        self.shuffle_buffer = int(shuffle_buffer)
        self.rank, self.world_size = int(rank), int(world_size)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        import torch
        import webdataset as wds

        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        stream_seed = epoch_seed(self.seed, self.epoch, self.rank, worker)
        if info is not None:  # the main process is seeded by the trainer at each epoch start
            torch.manual_seed(stream_seed)
            random.seed(stream_seed)
        mine = shards_for(self.shard_set.shards, self.seed, self.epoch, self.rank, self.world_size, worker, workers)
        if not mine:
            return
        stages = [wds.SimpleShardList(mine), wds.tarfile_to_samples(handler=wds.reraise_exception)]
        if self.shuffle_buffer > 1:
            stages.append(wds.shuffle(self.shuffle_buffer, initial=min(self.shuffle_buffer, 100),
                                      rng=random.Random(stream_seed)))
        stages.append(wds.decode("pil", handler=wds.reraise_exception))
        for sample in wds.DataPipeline(*stages):
            yield self._item(sample)

    def _item(self, sample: dict) -> tuple[Any, int, str]:
        image = next((sample[e] for e in IMAGE_EXTS if e in sample), None)
        meta = sample.get("json")
        if isinstance(meta, (bytes, str)):
            meta = json.loads(meta)
        if image is None or not isinstance(meta, dict) or "class_id" not in meta:
            raise DataError(f"sample {sample.get('__key__')!r} in {sample.get('__url__')!r} lacks an image or a "
                            "class_id", "make the set with synthrec's generator or pretrain.sets")
        return self.transform(image.convert("RGB")), int(meta["class_id"]), str(sample["__key__"])


def make_loader(stream: ShardStream, batch_size: int, num_workers: int = 0, drop_last: bool = False):
    import torch

    return torch.utils.data.DataLoader(stream, batch_size=batch_size, num_workers=num_workers, drop_last=drop_last,
                                       persistent_workers=False, pin_memory=torch.cuda.is_available())


def write_image_shards(folder: str | Path, images: Sequence, labels: Sequence[int], classnames: Sequence[str],
                       shard_size: int = 1000, prefix: str = "img", **info: Any) -> ShardSet:
    """Write PIL images with class ids as a set in the generator's layout (``images/shard-*.tar`` + ``set.json``):
    for real images to pre-train on (the glyph world's renderer, an ImageNet you already have) and for tests."""
    import io

    import webdataset as wds

    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    shards = []
    for s, start in enumerate(range(0, len(images), shard_size)):
        path = folder / "images" / f"shard-{s:05d}.tar"
        with _io.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            writer = wds.TarWriter(fh, encoder=False, mtime=0)
            for i in range(start, min(start + shard_size, len(images))):
                buf = io.BytesIO()
                images[i].save(buf, format="PNG")
                writer.write({"__key__": f"{prefix}{i:08d}", "png": buf.getvalue(),
                              "json": json.dumps({"class_id": int(labels[i])}).encode()})
            writer.close()
        shards.append(path)
    write_set_index(folder, shards, classnames, len(images), **info)
    return open_set(folder)
