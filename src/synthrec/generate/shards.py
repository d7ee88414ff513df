"""Making one shard: generate its images batch by batch, write them, then its manifest.

Order of writes is the crash-safety contract: the tar goes to a temporary name and is renamed into place (an
ImageFolder writes each image atomically), and only then is ``manifest/shard-XXXXX.parquet`` written, atomically.
Ctrl-C, a killed worker or a full disk leave at most a stray temporary file and no manifest, so the shard is redone
on the next run and every finished shard stays as it was.
"""
from __future__ import annotations

import io
import json
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import _io
from .._malloc import reuse_freed_memory
from ..errors import DataError
from .backends.base import Generator
from .manifest import IMAGES_DIR, write_manifest
from .plan import Shard, WorkUnit, shard_name

# Fixed tar metadata, so the same images give a byte-identical tar.
_TAR_MTIME = 0
_TAR_OWNER = "synthrec"
_ENCODE_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs besides the shard itself; plain data, so it crosses process boundaries."""

    out_dir: str
    generator_spec: str
    generator_kwargs: dict[str, Any]
    batch_size: int
    format: str = "webdataset"
    image_format: str = "png"
    class_folders: dict[int, str] = field(default_factory=dict)
    class_names: dict[int, str] = field(default_factory=dict)
    cpu_threads: int | None = None  # the plan's torch thread count on CPU (it can change an image's last bits)

    # The executor protocol (FeatureJob in encode_features.py is the other job): load once per worker, then run.
    @property
    def device(self) -> str:
        return self.generator_kwargs.get("device", "auto")

    def setup(self, device: str | None = None) -> Generator:
        from .backends import create_generator

        return create_generator(self.generator_spec, **dict(self.generator_kwargs, device=device or self.device))

    def run(self, generator: Generator, shard: Shard, on_images: Callable[[int], None] | None = None):
        return make_shard(generator, self, shard, on_images=on_images)


@dataclass(frozen=True)
class ShardResult:
    shard_id: int
    num_images: int
    seconds: float


def encode_image(image, image_format: str) -> bytes:
    """Encoded bytes with no timestamps or other varying metadata, so equal pixels give an equal sha256."""
    buf = io.BytesIO()
    if image_format == "png":
        image.save(buf, format="PNG")
    elif image_format == "jpg":
        (image if image.mode in ("RGB", "L") else image.convert("RGB")).save(buf, format="JPEG", quality=95)
    elif image_format == "webp":
        image.save(buf, format="WEBP", quality=95)
    else:
        raise ValueError(f"unknown image format {image_format!r}")
    return buf.getvalue()


def _batches(units: Sequence[WorkUnit], batch_size: int) -> list[list[WorkUnit]]:
    """Consecutive units of the same mode (text-only, or img2img at one strength), at most batch_size each."""
    out: list[list[WorkUnit]] = []
    for u in units:
        mode = (u.init_image is None, u.strength)
        if out and len(out[-1]) < batch_size and (out[-1][0].init_image is None, out[-1][0].strength) == mode:
            out[-1].append(u)
        else:
            out.append([u])
    return out


def _open_init(path: str, cache: dict[str, Any]):
    if path not in cache:
        from PIL import Image

        try:
            with Image.open(path) as img:
                img.load()
                cache[path] = img.copy()
        except FileNotFoundError:
            raise DataError(f"real shot {path!r} does not exist", "check the few-shot list of chosen files") from None
        except Exception as exc:  # PIL raises many types for a bad file
            raise DataError(f"real shot {path!r} cannot be decoded ({type(exc).__name__})",
                            "replace or drop that image and sample the shots again") from None
    return cache[path]


def _run_batch(generator: Generator, batch: list[WorkUnit], init_cache: dict[str, Any]):
    prompts = [u.prompt for u in batch]
    seeds = [u.seed for u in batch]
    if batch[0].init_image is None:
        out = generator.text_to_image(prompts, seeds)
    else:
        images = [_open_init(u.init_image, init_cache) for u in batch]
        out = generator.image_to_image(prompts, seeds, images, strength=batch[0].strength)
    if len(out.images) != len(batch):
        raise RuntimeError(f"{generator.generator_id} returned {len(out.images)} images for {len(batch)} prompts")
    return out.images, blacked_out_flags(out.meta, len(batch))


def blacked_out_flags(meta: dict[str, Any], n: int) -> list[bool]:
    """Which images a diffusers safety checker replaced with black ones (``nsfw_content_detected``)."""
    flags = meta.get("nsfw_content_detected")
    if flags is None:
        return [False] * n
    if len(flags) != n:
        raise RuntimeError(f"the safety checker flagged {len(flags)} images of a batch of {n}")
    return [bool(f) for f in flags]


class _TarSink:
    def __init__(self, fh):
        import webdataset as wds

        self.writer = wds.TarWriter(fh, encoder=False, mtime=_TAR_MTIME, user=_TAR_OWNER, group=_TAR_OWNER)

    def write(self, unit: WorkUnit, data: bytes, ext: str, meta: dict[str, Any]) -> None:
        # `cls` is WebDataset's convention for the integer label (decoded to an int by its default handlers).
        self.writer.write({"__key__": unit.image_id, ext: data, "cls": str(unit.class_id).encode(),
                           "json": json.dumps(meta, sort_keys=True, ensure_ascii=False).encode(),
                           "txt": unit.prompt.encode()})

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        """After a failed write (a full disk): mark the tar stream closed without flushing it, or its ``__del__``
        retries the write on a closed file and prints "Exception ignored" after our one-line error."""
        tar = self.writer.tarstream
        stream = getattr(tar, "fileobj", None)
        if stream is not None and hasattr(stream, "closed"):
            stream.closed = True
        tar.closed = True


def make_shard(generator: Generator, job: ShardJob, shard: Shard,
               on_images: Callable[[int], None] | None = None) -> ShardResult:
    """Generate, write and seal one shard. Overwrites whatever an earlier, unfinished attempt left behind."""
    t0 = time.perf_counter()
    out_dir = Path(job.out_dir)
    images_dir = out_dir / IMAGES_DIR
    images_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir, shard.shard_id)
    settings_json = json.dumps(generator.settings, sort_keys=True)
    ext = job.image_format
    tar_rel = f"{IMAGES_DIR}/{shard.name}.tar"
    rows: list[dict[str, Any]] = []
    init_cache: dict[str, Any] = {}

    def row_for(unit: WorkUnit, data: bytes, size: tuple[int, int], rel: str, blacked: bool) -> dict[str, Any]:
        return {"image_id": unit.image_id, "shard_id": shard.shard_id, "key": unit.image_id, "path": rel,
                "class_id": unit.class_id, "class_name": job.class_names.get(unit.class_id), "prompt_id": unit.prompt_id, "image_index": unit.image_index,
                "prompt": unit.prompt, "seed": unit.seed, "generator": generator.generator_id,
                "settings": settings_json, "sha256": _io.sha256_bytes(data), "width": size[0], "height": size[1],
                "source_shot": unit.source_shot, "strength": unit.strength, "blacked_out": blacked}

    def sink_batch(sink, units: list[WorkUnit], images, blacked: list[bool], encoded: list[bytes]) -> None:
        for unit, img, flag, data in zip(units, images, blacked, encoded, strict=True):
            if sink is not None:
                row = row_for(unit, data, img.size, tar_rel, flag)
                sink.write(unit, data, ext, {k: v for k, v in row.items() if k != "settings"})
            else:
                folder = job.class_folders.get(unit.class_id, f"{unit.class_id:03d}")
                row = row_for(unit, data, img.size, f"{IMAGES_DIR}/{folder}/{unit.image_id}.{ext}", flag)
                _io.write_bytes(out_dir / row["path"], data)
            rows.append(row)
        if on_images is not None:
            on_images(len(units))

    def produce(sink) -> None:
        # Encoding batch k overlaps generating batch k+1, on a few threads (PIL's encoders release the GIL): PNG at
        # 512 px costs ~20 ms an image, which a fast GPU outruns on one thread. Writes stay in plan order, so the
        # tar and the manifest do not depend on thread timing.
        with ThreadPoolExecutor(max_workers=_ENCODE_THREADS, thread_name_prefix="synthrec-encode") as pool, \
                reuse_freed_memory():
            pending: tuple[list[WorkUnit], list, list[bool], list[Future]] | None = None
            for batch in _batches(shard.units, job.batch_size):
                images, blacked = _run_batch(generator, batch, init_cache)
                futures = [pool.submit(encode_image, im, ext) for im in images]
                if pending is not None:
                    sink_batch(sink, *pending[:3], [f.result() for f in pending[3]])
                pending = (batch, images, blacked, futures)
            if pending is not None:
                sink_batch(sink, *pending[:3], [f.result() for f in pending[3]])

    tar_path = None
    if job.format == "webdataset":
        tar_path = out_dir / tar_rel
        with _io.atomic_path(out_dir / tar_rel) as tmp:
            with open(tmp, "wb") as fh:
                sink = _TarSink(fh)
                try:
                    produce(sink)
                    sink.close()
                    fh.flush()
                    os.fsync(fh.fileno())
                except BaseException:
                    sink.abort()
                    raise
    elif job.format == "imagefolder":
        produce(None)
    else:
        raise ValueError(f"unknown output format {job.format!r}")
    write_manifest(out_dir, shard.shard_id, rows, tar_path=tar_path)
    return ShardResult(shard.shard_id, len(rows), time.perf_counter() - t0)


def remove_stale_temps(out_dir: str | Path, shard_id: int | None = None) -> None:
    """Delete temporary files left by a killed attempt (atomic_path names them ".<name>.<random>.tmp")."""
    from .manifest import MANIFEST_DIR

    stem = shard_name(shard_id) if shard_id is not None else "shard-*"
    for sub, suffix in ((IMAGES_DIR, "tar"), (MANIFEST_DIR, "parquet")):
        folder = Path(out_dir) / sub
        if folder.is_dir():
            for p in folder.glob(f".{stem}.{suffix}.*.tmp"):
                p.unlink(missing_ok=True)
    if shard_id is None:  # ImageFolder: a killed run's half-written images, one class folder down
        for p in [*(Path(out_dir) / IMAGES_DIR).glob("*/.*.tmp"), *Path(out_dir).glob(".*.tmp")]:
            p.unlink(missing_ok=True)
