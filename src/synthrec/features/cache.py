"""A feature cache keyed by content: (encoder fingerprint, image sha256), never by a dataset or split name.

The authors' cache was ``{cache_dir}/{DatasetClass}/{split}``, so switching RN50 and ViT-B/16 or regenerating the
images silently reused stale features (METHOD.md §8.1.6). Here a key changes whenever the encoder's weights,
preprocessing or precision change (the fingerprint) or any byte of an image changes (its sha256).

Layout: ``<cache_dir>/<fingerprint[:32]>/encoder.json`` plus chunks ``chunk-<id>.safetensors`` (a float32
``features`` matrix) each with its index ``chunk-<id>.parquet`` (sha256, row). A chunk's parquet is written after
its tensors, atomically, so it marks the chunk complete; writers never touch each other's files, so two processes
may fill one cache at once (at worst both encode the same image).
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
from PIL import Image

from .. import _io
from .._malloc import reuse_freed_memory
from ..errors import DamagedCacheError, DataError
from .encoders.base import ImageTextEncoder

log = logging.getLogger(__name__)

ImageLoader = Callable[[], Image.Image]
Item = tuple[str, ImageLoader]  # (sha256 of the image's content, a callable returning the decoded image)
CHUNK_ROWS = 16384


def image_sha256(image: Image.Image) -> str:
    """A content key for an image held in memory (no file bytes to hash): mode, size and pixels."""
    h = hashlib.sha256(f"{image.mode}:{image.size[0]}x{image.size[1]}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()


class FileImage:
    """A loader for an image file that names the file in errors and decodes it fully (lazy PIL hides truncation)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.source = str(self.path)

    def __call__(self) -> Image.Image:
        with Image.open(self.path) as im:
            im.load()
            return im.copy()

    def __repr__(self) -> str:
        return f"FileImage({self.source!r})"


class InMemoryImage:
    def __init__(self, image: Image.Image, source: str = "<in memory>"):
        self.image = image
        self.source = source

    def __call__(self) -> Image.Image:
        return self.image


class FeatureCache:
    """The cached features of one encoder (one fingerprint)."""

    def __init__(self, cache_dir: str | os.PathLike, encoder: ImageTextEncoder):
        self.folder = Path(cache_dir) / encoder.fingerprint[:32]
        self.fingerprint = encoder.fingerprint
        self.embed_dim = int(encoder.embed_dim)
        self._index: dict[str, tuple[str, int]] = {}
        self._seen_files: set[str] = set()
        self._check_or_write_meta(encoder)

    def _check_or_write_meta(self, encoder: ImageTextEncoder) -> None:
        meta = self.folder / "encoder.json"
        if meta.is_file():
            data = _io.read_json(meta)
            if data.get("fingerprint") != self.fingerprint or data.get("embed_dim") != self.embed_dim:
                raise DataError(f"feature cache folder {self.folder} belongs to another encoder",
                                "delete that folder or use another cache_dir")
            return
        _io.write_json(meta, {"fingerprint": self.fingerprint, "encoder_id": encoder.encoder_id,
                              "embed_dim": self.embed_dim})

    def refresh(self) -> None:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("chunk-*.parquet")):
            if path.name in self._seen_files:
                continue
            table = _io.read_parquet(path).to_pydict()
            for sha, row in zip(table["sha256"], table["row"]):
                self._index[sha] = (path.stem, int(row))
            self._seen_files.add(path.name)

    def contains(self, sha: str) -> bool:
        return sha in self._index

    def missing(self, shas: Iterable[str]) -> list[str]:
        self.refresh()
        return [s for s in dict.fromkeys(shas) if s not in self._index]

    def get(self, shas: Sequence[str], out: torch.Tensor | None = None,
            rows: Sequence[int] | None = None) -> torch.Tensor:
        """Features for ``shas`` (all must be cached), in order, as an (N, D) float32 tensor.

        With ``out`` the features are written straight into ``out[rows[i]]`` (no second (N, D) copy in memory)."""
        from safetensors.torch import load_file

        if out is None:
            out = torch.empty(len(shas), self.embed_dim, dtype=torch.float32)
        rows = range(len(shas)) if rows is None else rows
        by_chunk: dict[str, tuple[list[int], list[int]]] = {}
        for i, sha in zip(rows, shas):
            chunk, row = self._index[sha]
            dst, src = by_chunk.setdefault(chunk, ([], []))
            dst.append(i)
            src.append(row)
        for chunk, (dst, src) in by_chunk.items():
            feats = load_file(str(self.folder / f"{chunk}.safetensors"))["features"][torch.tensor(src)]
            if not torch.isfinite(feats).all():  # an encoder never writes NaN: the file was damaged
                raise DamagedCacheError(chunk, self.folder / f"{chunk}.safetensors")
            out[torch.tensor(dst)] = feats
        return out

    def drop_chunk(self, chunk: str) -> None:
        """Forget a chunk: its index first (the completeness marker), then its tensors."""
        (self.folder / f"{chunk}.parquet").unlink(missing_ok=True)
        (self.folder / f"{chunk}.safetensors").unlink(missing_ok=True)
        self._index = {sha: where for sha, where in self._index.items() if where[0] != chunk}
        self._seen_files.discard(f"{chunk}.parquet")

    def put(self, shas: Sequence[str], feats: torch.Tensor) -> None:
        if len(shas) != len(feats):
            raise ValueError(f"{len(shas)} keys for {len(feats)} feature rows")
        for start in range(0, len(shas), CHUNK_ROWS):
            part, block = list(shas[start:start + CHUNK_ROWS]), feats[start:start + CHUNK_ROWS]
            chunk = "chunk-" + hashlib.sha256("\n".join(part).encode()).hexdigest()[:24]
            _io.write_safetensors(self.folder / f"{chunk}.safetensors",
                                  {"features": block.detach().to(torch.float32).contiguous()})
            _io.write_parquet(self.folder / f"{chunk}.parquet", {"sha256": part, "row": list(range(len(part)))})
            for row, sha in enumerate(part):
                self._index[sha] = (chunk, row)
            self._seen_files.add(f"{chunk}.parquet")


def encode_texts_cached(encoder: ImageTextEncoder, texts: Sequence[str],
                        cache_dir: str | os.PathLike | None) -> torch.Tensor:
    """``encoder.encode_texts(texts)`` through the cache, keyed by (encoder fingerprint, the exact texts).

    Class prompts are few but their text model can be the slowest thing to load (the glyph world's sentence
    encoder takes seconds), so filtering or training a run again loads no text model at all.
    """
    texts = [str(t) for t in texts]
    if cache_dir is None:
        return encoder.encode_texts(texts)
    folder = FeatureCache(cache_dir, encoder).folder
    key = hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()[:32]
    path = folder / f"texts-{key}.safetensors"
    if path.is_file():
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as fh:
                if json.loads(fh.metadata().get("texts", "null")) == texts:
                    return fh.get_tensor("embeddings")
        except Exception as exc:  # a damaged entry is only a cache miss
            log.warning("text embedding cache %s is unreadable (%s); encoding again", path, exc)
    emb = encoder.encode_texts(texts).detach().to(torch.float32).contiguous()
    _io.write_safetensors(path, {"embeddings": emb}, metadata={"texts": json.dumps(texts)})
    return emb


@dataclass
class EncodeResult:
    """Features of every item in order; rows of items that failed to load are NaN and listed in ``failed``."""

    features: torch.Tensor
    failed: dict[int, str] = field(default_factory=dict)
    n_encoded: int = 0

    @property
    def ok(self) -> torch.Tensor:
        mask = torch.ones(len(self.features), dtype=torch.bool)
        if self.failed:
            mask[torch.tensor(sorted(self.failed))] = False
        return mask


def encode_items(encoder: ImageTextEncoder, items: Sequence[Item], cache_dir: str | os.PathLike | None, *,
                 batch_size: int = 256, num_workers: int | None = None, on_error: str = "raise",
                 flush_rows: int = CHUNK_ROWS, progress: bool = True, desc: str = "encoding images",
                 _retried: bool = False) -> EncodeResult:
    """Features of ``items`` through the cache: only images missing from it are decoded and encoded, in batches.

    ``on_error="raise"`` stops with a :class:`DataError` naming the first undecodable image; ``"skip"`` logs every
    one (with its file) and reports it in ``EncodeResult.failed``, its row left NaN so it can never pass as data.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    shas = [sha for sha, _ in items]
    first: dict[str, int] = {}
    for i, sha in enumerate(shas):
        first.setdefault(sha, i)
    cache = FeatureCache(cache_dir, encoder) if cache_dir is not None else None
    todo = cache.missing(first) if cache is not None else list(first)
    fresh: dict[str, torch.Tensor] = {}
    bad: dict[str, str] = {}
    pending_keys: list[str] = []
    pending: list[torch.Tensor] = []
    for keys, feats, errors in _encode_stream(encoder, [(s, items[first[s]][1]) for s in todo], batch_size,
                                              num_workers, progress, desc):
        if cache is None:
            fresh.update(zip(keys, feats))
        else:
            pending_keys.extend(keys)
            pending.append(feats)
        for sha, msg in errors.items():
            if on_error == "raise":
                if cache is not None and pending_keys:  # what was encoded stays encoded for the next run
                    cache.put(pending_keys, torch.cat(pending))
                raise DataError(f"cannot decode image {msg}", "remove or replace the file, then run again")
            log.warning("skipping undecodable image %s", msg)
            bad[sha] = msg
        if cache is not None and len(pending_keys) >= flush_rows:  # a crash loses at most one chunk of work
            cache.put(pending_keys, torch.cat(pending))
            pending_keys, pending = [], []
    if cache is not None and pending_keys:
        cache.put(pending_keys, torch.cat(pending))

    out = torch.full((len(items), int(encoder.embed_dim)), float("nan"))
    good_rows = [i for i, s in enumerate(shas) if s not in bad]
    if good_rows:
        good_shas = [shas[i] for i in good_rows]
        try:
            if cache is not None:
                cache.get(good_shas, out=out, rows=good_rows)  # straight into ``out``: no second (N, D) copy
            else:
                out[torch.tensor(good_rows)] = torch.stack([fresh[s] for s in good_shas])
        except DamagedCacheError as exc:
            if _retried:
                raise DataError(f"feature cache file {exc.path} is damaged again right after being rebuilt",
                                f"delete {cache.folder} and check the disk") from None
            log.warning("feature cache file %s holds NaN or infinite values (damaged); deleting it and encoding its "
                        "images again", exc.path)
            cache.drop_chunk(exc.chunk)
            return encode_items(encoder, items, cache_dir, batch_size=batch_size, num_workers=num_workers,
                                on_error=on_error, flush_rows=flush_rows, progress=progress, desc=desc, _retried=True)
    failed = {i: bad[s] for i, s in enumerate(shas) if s in bad}
    return EncodeResult(out, failed, n_encoded=len(todo) - len(bad))


def encode_with_cache(encoder: ImageTextEncoder, items: Sequence[Item], cache_dir: str | os.PathLike | None,
                      batch_size: int = 256, **kw) -> torch.Tensor:
    """(N, D) float32 L2-normalised features of ``items``; an undecodable image raises :class:`DataError`."""
    return encode_items(encoder, items, cache_dir, batch_size=batch_size, on_error="raise", **kw).features


# On the CPU, decoding threads run beside the model's OpenMP threads. They pay off when an image's decoding is long
# C work that releases the GIL (a 256 px PNG: about 2.7 ms), and cost more than they give when it is mostly Python
# (a 16 px glyph: about 0.1 ms). Measured on 2 cores, 10,000 16 px glyphs with the mini CLIP: 1.5 s decoding in the
# calling thread, 1.75 s with two decoding threads; 1,000 256 px PNGs with a tiny open_clip at 224 px: 3.1 s vs 2.2 s.
DECODE_THREADS_FROM_SECONDS = 0.5e-3
_DECODE_PROBE = 32  # images decoded and timed in the calling thread before the choice


def decode_workers(encoder: ImageTextEncoder, num_workers: int | None = None,
                   seconds_per_image: float | None = None) -> int:
    """Threads that decode the next batch while the model encodes this one; 0 decodes in the calling thread.

    On a GPU the model leaves the CPU to decoding, which then gets up to 8 threads. On the CPU the first images of a
    pass are decoded in the calling thread and timed (``seconds_per_image``): images slower to decode than
    ``DECODE_THREADS_FROM_SECONDS`` get a thread per core for the rest, faster ones stay in the calling thread, where
    they do not preempt the model's threads at every barrier. Which threads decode never changes a feature: the
    model's thread count is left as it is.
    """
    if num_workers is not None:
        return max(0, int(num_workers))
    cores = os.cpu_count() or 1
    if getattr(encoder, "device", torch.device("cpu")).type != "cpu":
        return min(8, cores)
    if seconds_per_image is None or cores < 2:
        return 0
    return min(8, cores) if seconds_per_image >= DECODE_THREADS_FROM_SECONDS else 0


def _describe(sha: str, loader: ImageLoader, exc: BaseException) -> str:
    source = getattr(loader, "source", None) or f"with sha256 {sha[:16]}"
    return f"{source} ({' '.join(str(exc).split()) or type(exc).__name__})"


def _decode_chunk(encoder: ImageTextEncoder, chunk: Sequence[Item]):
    """Decode and preprocess consecutive items: (keys, pixels (n, C, H, W) or None, errors by key).

    One preprocessing call for the whole chunk; only if it fails is each image tried alone, to name the bad one.
    """
    decoded, errors = [], {}
    for sha, loader in chunk:
        try:
            decoded.append((sha, loader, loader()))
        except Exception as exc:  # PIL raises OSError, ValueError, SyntaxError, ... on broken files
            errors[sha] = _describe(sha, loader, exc)
    if not decoded:
        return [], None, errors
    try:
        return [sha for sha, _, _ in decoded], encoder.preprocess_batch([im for _, _, im in decoded]), errors
    except Exception:
        pass
    keys, tensors = [], []
    for sha, loader, image in decoded:
        try:
            tensors.append(encoder.preprocess(image))
            keys.append(sha)
        except Exception as exc:
            errors[sha] = _describe(sha, loader, exc)
    return keys, (torch.stack(tensors) if tensors else None), errors


def _one_torch_thread() -> None:
    # Preprocessing runs small tensor ops (ToTensor, Normalize); with OpenMP's default team per decoding thread they
    # oversubscribe the cores and stall on barriers (48 ms instead of 1.7 ms per 224 px image measured on 2 busy
    # cores). The setting is per thread under OpenMP, so the main thread's model forward keeps all its threads.
    torch.set_num_threads(1)


def _encode_stream(encoder, todo, batch_size, num_workers, progress, desc):
    """Yield (keys, features, errors) per batch; the next batch decodes in threads while this one encodes.

    A batch is decoded as one contiguous chunk per decoding thread (one task and one preprocessing call per chunk,
    not per image), so consecutive images of a shard stay with one reader.
    """
    if not todo:
        return
    from tqdm.auto import tqdm

    starts = list(range(0, len(todo), batch_size))
    workers = decode_workers(encoder, num_workers)
    # On the CPU, the first few images are decoded in this thread and timed; their pace picks the decoding threads.
    timed = workers == 0 and num_workers is None and len(todo) > _DECODE_PROBE and batch_size > 1
    probe = min(_DECODE_PROBE, batch_size - 1) if timed else 0
    with cf.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1) if probe else max(1, workers),
                               initializer=_one_torch_thread) as pool, \
            tqdm(total=len(todo), desc=desc, unit="img", disable=not progress or None, leave=False) as bar, \
            reuse_freed_memory():
        def submit(lo, hi):
            batch = todo[lo:hi]
            if not batch:
                return []
            if workers == 0:
                return [_Done(_decode_chunk(encoder, batch))]
            step = -(-len(batch) // workers)
            return [pool.submit(_decode_chunk, encoder, batch[i:i + step]) for i in range(0, len(batch), step)]

        queued = None
        for n, start in enumerate(starts):
            end = start + batch_size
            if n == 0 and probe:
                # The first image pays once-per-run costs (a shard's index, opening files), so it is not timed.
                warm = _Done(_decode_chunk(encoder, todo[:1]))
                t0 = time.perf_counter()
                timed_chunk = _Done(_decode_chunk(encoder, todo[1:1 + probe]))
                workers = decode_workers(encoder, None, (time.perf_counter() - t0) / probe)
                log.debug("features: decoding on %d threads beside the model", workers)
                current = [warm, timed_chunk, *submit(1 + probe, end)]
            else:
                current = queued if queued is not None else submit(start, end)
            queued = submit(end, end + batch_size) if workers and n + 1 < len(starts) else None
            keys, pixels, errors = [], [], {}
            for fut in current:
                chunk_keys, chunk_pixels, chunk_errors = fut.result()
                keys.extend(chunk_keys)
                errors.update(chunk_errors)
                if chunk_pixels is not None:
                    pixels.append(chunk_pixels)
            feats = encoder.encode_pixels(torch.cat(pixels)) if pixels else torch.zeros(0, encoder.embed_dim)
            bar.update(len(keys) + len(errors))
            yield keys, feats, errors


class _Done:
    """A finished result behind the future interface (decoding in the calling thread)."""

    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value
