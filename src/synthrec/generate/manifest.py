"""The per-shard manifest and the readers built on it.

``manifest/shard-00000.parquet`` is written last and atomically, after the shard's images are in place, so it is
the done-marker: a shard is complete exactly when its manifest exists, and readers see complete shards only.
"""
from __future__ import annotations

import io
import logging
import os
import re
import tarfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator, Literal

from .. import _io
from ..errors import DataError
from .plan import shard_name

log = logging.getLogger(__name__)

MANIFEST_DIR = "manifest"
IMAGES_DIR = "images"
_SHARD_RE = re.compile(r"^shard-(\d+)\.parquet$")

# Column -> (pyarrow type factory name, nullable). Kept as data so the docs and the schema cannot drift apart.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("image_id", "string", False),     # "<prompt_id:08d>-<image_index:05d>", unique in the run
    ("shard_id", "int64", False),
    ("key", "string", False),          # WebDataset __key__ (= image_id); the tar member is "<key>.<ext>"
    ("path", "string", False),         # relative to the output folder: the tar, or the image file (ImageFolder)
    ("class_id", "int64", False),
    ("class_name", "string", True),    # null when generate() was given no class names
    ("prompt_id", "int64", False),
    ("image_index", "int64", False),
    ("prompt", "string", False),
    ("seed", "int64", False),          # the image's own torch.Generator seed (derive_seed)
    ("generator", "string", False),    # the generator spec (hub id, path or glyph)
    ("settings", "string", False),     # JSON: steps, guidance, size, dtype, scheduler, versions
    ("sha256", "string", False),       # of the encoded image bytes as stored
    ("width", "int32", False),
    ("height", "int32", False),
    ("source_shot", "string", True),   # Real Guidance: the real image this one was made from
    ("strength", "float64", True),     # Real Guidance: img2img strength
    ("blacked_out", "bool_", False),   # the pipeline's safety checker replaced the image with a black one
)
# Columns added after the first release, with the value a manifest written before them stands for.
_ADDED_LATER = {"blacked_out": False}


def manifest_schema():
    import pyarrow as pa

    return pa.schema([pa.field(n, getattr(pa, t)(), nullable=nullable) for n, t, nullable in COLUMNS])


def manifest_path(out_dir: str | Path, shard_id: int) -> Path:
    return Path(out_dir) / MANIFEST_DIR / f"{shard_name(shard_id)}.parquet"


def write_manifest(out_dir: str | Path, shard_id: int, rows: list[dict[str, Any]],
                   tar_path: str | Path | None = None) -> Path:
    """The shard's done-marker. With ``tar_path``, the tar's size and sha256 go into the Parquet metadata, so a
    truncated or replaced tar is caught without reading it (see ``verify.py``)."""
    import pyarrow as pa

    table = pa.Table.from_pylist(rows, schema=manifest_schema())
    if tar_path is not None:
        table = table.replace_schema_metadata({b"synthrec.tar_bytes": str(Path(tar_path).stat().st_size).encode(),
                                               b"synthrec.tar_sha256": _io.sha256_file(tar_path).encode()})
    path = manifest_path(out_dir, shard_id)
    _io.write_parquet(path, table)
    return path


def complete_shards(out_dir: str | Path) -> list[int]:
    folder = Path(out_dir) / MANIFEST_DIR
    if not folder.is_dir():
        return []
    ids = []
    for p in folder.iterdir():
        m = _SHARD_RE.match(p.name)
        if m and p.is_file():
            ids.append(int(m.group(1)))
    return sorted(ids)


def read_manifest(out_dir: str | Path):
    """All complete shards' rows as one pyarrow Table, sorted by shard, then by row within the shard."""
    import pyarrow as pa

    out_dir = Path(out_dir)
    if not (out_dir / MANIFEST_DIR).is_dir():
        raise DataError(f"{str(out_dir)!r} has no generated images (no {MANIFEST_DIR}/ folder)",
                        "run the generate stage into this folder first")
    schema = manifest_schema()
    tables = []
    for sid in complete_shards(out_dir):
        path = manifest_path(out_dir, sid)
        try:
            t = _io.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DataError(f"manifest {path} cannot be read ({exc})",
                            "delete it and run generate again to remake that shard") from None
        if "class_name" not in t.schema.names:  # written before manifests named their classes
            t = t.add_column(t.schema.get_field_index("class_id") + 1, "class_name",
                             pa.nulls(t.num_rows, pa.string()))
        missing = [n for n in schema.names if n not in t.schema.names]
        if missing and all(n in _ADDED_LATER for n in missing):
            for n in missing:
                t = t.append_column(n, pa.array([_ADDED_LATER[n]] * t.num_rows, schema.field(n).type))
        if t.schema.names != schema.names:
            raise DataError(f"manifest {path} has columns {t.schema.names}, expected {schema.names}",
                            "it was made by another synthrec version; generate into a new folder")
        tables.append(t.replace_schema_metadata(None).cast(schema))
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables)


def usable_rows(table):
    """The rows a stage may learn from: images the safety checker blacked out carry no class (their pixels are
    zeros) and stay out of filtering and training. Returns (rows kept, number blacked out)."""
    import pyarrow.compute as pc

    blacked = table.column("blacked_out")
    n = int(pc.sum(blacked).as_py() or 0)
    if n:
        log.warning("%d of %d generated images were blacked out by the safety checker; leaving them out",
                    n, table.num_rows)
        table = table.filter(pc.invert(blacked))
    return table, n


def _decode(data: bytes, what: str):
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()  # decode now, so a truncated file fails here and not inside a training loop
    return img


IMAGE_EXTS = ("png", "jpg", "jpeg", "webp")


_INDEX_SHARDS = 64  # indexes kept per process: a few MB even for 1,000-image shards


class _ShardIndexes:
    """Where each image sits inside a shard tar (key -> data offset and size), built once per shard and shared.

    Parsing a tar's headers is the costly part of reading one image from it (a 1,000-image shard has ~3,000
    members), so the index is built on the first read and then serves every reader and thread of the process. It is
    keyed by (path, size, mtime), so a shard that was made again gets a fresh index.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._built: OrderedDict[tuple[str, int, int], dict[str, tuple[int, int]]] = OrderedDict()

    def get(self, path: Path, fd: int) -> dict[str, tuple[int, int]]:
        st = os.fstat(fd)
        stamp = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            found = self._built.get(stamp)
            if found is not None:
                self._built.move_to_end(stamp)
                return found
        # Read the headers through this reader's own file, so the index always describes the bytes it will read.
        index = _plain_ustar_index(fd)
        if index is None:
            index = {}
            with os.fdopen(os.dup(fd), "rb") as fh, tarfile.open(fileobj=fh, mode="r") as tar:
                for info in tar:
                    k, _, ext = info.name.partition(".")
                    if info.isreg() and ext.lower() in IMAGE_EXTS:
                        index[k] = (info.offset_data, info.size)
        with self._lock:
            self._built[stamp] = index
            while len(self._built) > _INDEX_SHARDS:
                self._built.popitem(last=False)
        return index


_BLOCK = 512


def _plain_ustar_index(fd: int) -> dict[str, tuple[int, int]] | None:
    """The image members of a tar made only of plain ustar file headers (what the shard writer makes: short ASCII
    names, no extended headers), read 512 bytes a header; None for anything else (a pax, GNU long-name, link or
    sparse entry, a bad checksum), which tarfile then indexes.

    tarfile builds a full TarInfo per member, about 60 us each on this project's 2-core CPU: 0.25 s for a
    1,000-image shard (4 members an image), paid on every shard a report or a decode pass opens. This scan costs a
    few microseconds a header and gives the same (offset, size) pairs, which the sha256 of every read checks.
    """
    index: dict[str, tuple[int, int]] = {}
    offset = 0
    while True:
        header = os.pread(fd, _BLOCK, offset)
        if len(header) < _BLOCK:
            return None
        if header[0] == 0 and header.count(0) == _BLOCK:  # end-of-archive marker
            return index
        typeflag = header[156:157]
        if typeflag not in (b"0", b"\0") or header[124] & 0x80:  # not a plain file, or a base-256 size
            return None
        stored = header[148:156].split(b"\0", 1)[0].strip()
        try:
            checksum, size = int(stored, 8), int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        except ValueError:
            return None
        if checksum != sum(header) - sum(header[148:156]) + 8 * 32:  # the checksum field counts as spaces
            return None
        name = header[:100].split(b"\0", 1)[0]
        if header[257:262] == b"ustar" and header[345] != 0:
            name = header[345:500].split(b"\0", 1)[0] + b"/" + name
        try:
            k, _, ext = name.decode("ascii").partition(".")
        except UnicodeDecodeError:
            return None
        if ext.lower() in IMAGE_EXTS:
            index[k] = (offset + _BLOCK, size)
        offset += _BLOCK + -(-size // _BLOCK) * _BLOCK


_INDEXES = _ShardIndexes()


class _TarCache:
    """One reader's open shard (readers go through a manifest shard by shard); members are read at their indexed
    offsets, so no tar state is parsed or kept per reader."""

    def __init__(self):
        self.path: Path | None = None
        self.fd: int | None = None
        self.members: dict[str, tuple[int, int]] = {}

    def read(self, path: Path, key: str) -> bytes:
        if self.path != path:
            self.close()
            self.fd = os.open(path, os.O_RDONLY)
            self.path = path
            self.members = _INDEXES.get(path, self.fd)
        offset, size = self.members[key]
        data = os.pread(self.fd, size, offset)
        if len(data) != size:
            raise tarfile.ReadError(f"{path} ends inside member {key}")
        return data

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
        self.fd, self.path, self.members = None, None, {}


def _read_bytes(out_dir: Path, row: dict[str, Any], tars: _TarCache) -> bytes:
    path = out_dir / row["path"]
    if row["path"].endswith(".tar"):
        return tars.read(path, row["key"])
    return path.read_bytes()


def load_image(out_dir: str | Path, row: dict[str, Any], *, verify: bool = True):
    """One image of a manifest row, decoded (a PIL image); DataError if it is missing, corrupt or altered."""
    tars = _TarCache()
    try:
        return _load(Path(out_dir), row, tars, verify)
    finally:
        tars.close()


def _checked_bytes(out_dir: Path, row: dict[str, Any], tars: _TarCache, verify: bool) -> bytes:
    where = f"image {row.get('image_id')} ({row.get('path')})"
    try:
        data = _read_bytes(out_dir, row, tars)
    except (OSError, KeyError, tarfile.TarError) as exc:
        raise DataError(f"{where} is missing or unreadable ({type(exc).__name__})", _remake_fix(row)) from None
    if verify and _io.sha256_bytes(data) != row["sha256"]:
        raise DataError(f"{where} does not match its sha256 in the manifest (corrupt or replaced)", _remake_fix(row))
    return data


def _remake_fix(row: dict[str, Any]) -> str:
    return f"delete {MANIFEST_DIR}/{shard_name(row['shard_id'])}.parquet and run generate again to remake the shard"


def _load(out_dir: Path, row: dict[str, Any], tars: _TarCache, verify: bool):
    where = f"image {row.get('image_id')} ({row.get('path')})"
    data = _checked_bytes(out_dir, row, tars, verify)
    try:
        return _decode(data, where)
    except Exception as exc:  # PIL raises many types for a bad file
        raise DataError(f"{where} cannot be decoded ({type(exc).__name__})", _remake_fix(row)) from None


def iter_image_bytes(out_dir: str | Path, table=None) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Yield ``(row, encoded bytes as stored)`` for each manifest row, in table order, each checked against its
    sha256: for copying images out (an export) without decoding and re-encoding them. A missing or altered image
    raises DataError."""
    out_dir = Path(out_dir)
    if table is None:
        table = read_manifest(out_dir)
    for row, tars in _rows_with_tars(out_dir, table):
        yield row, _checked_bytes(out_dir, row, tars, True)


def _rows_with_tars(out_dir: Path, table) -> Iterator[tuple[dict[str, Any], _TarCache]]:
    """The table's rows in order, each with the one open-tar cache the whole pass shares."""
    tars = _TarCache()
    try:
        for batch in table.to_batches(max_chunksize=1024):
            for row in batch.to_pylist():
                yield row, tars
    finally:
        tars.close()


def iter_images(out_dir: str | Path, table=None, *, verify: bool = True,
                errors: Literal["skip", "raise"] = "skip") -> Iterator[tuple[dict[str, Any], Any]]:
    """Yield ``(row, PIL image)`` for each manifest row (default: all complete shards), in table order.

    A missing, corrupt or altered image is reported (a warning naming it and the fix) and skipped, never passed on;
    with ``errors="raise"`` it raises DataError instead.
    """
    if errors not in ("skip", "raise"):
        raise ValueError(f"errors must be 'skip' or 'raise', got {errors!r}")
    out_dir = Path(out_dir)
    if table is None:
        table = read_manifest(out_dir)
    for row, tars in _rows_with_tars(out_dir, table):
        try:
            img = _load(out_dir, row, tars, verify)
        except DataError as exc:
            if errors == "raise":
                raise
            log.warning("skipping %s", exc)
            continue
        yield row, img
