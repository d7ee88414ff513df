"""Atomic file writes and small serialisation helpers.

Finished work must never be corrupted by a crash, a full disk or Ctrl-C, so every file is written to a temporary
name in the same folder and renamed into place (rename is atomic on POSIX file systems).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import DiskFullError


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask can only be read by setting it, which races with threads


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a finished file gets the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # Again after the block: a writer that replaces the file (safetensors does) makes it 0600 afresh.
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        os.replace(tmp_path, path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise DiskFullError(f"disk full while writing {path}",
                                "free some space and run the same command again; finished files are intact") from exc
        raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_safetensors(path: str | os.PathLike, tensors: dict, metadata: dict[str, str] | None = None) -> None:
    """``safetensors.torch.save_file`` atomically, with the same bytes for the same tensors and metadata.

    safetensors (0.8) writes ``__metadata__`` in a hash map's random order, so two saves of one head differ
    (safetensors issue #584) and a resumed run would not match an uninterrupted one byte for byte. The header is
    rewritten in place with the metadata sorted: same keys and values, same length, tensor data untouched. A full
    disk, which safetensors reports as its own SafetensorError, becomes the one-line DiskFullError.
    """
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=metadata)
        except Exception as exc:  # safetensors raises its own SafetensorError, from its Rust extension
            if type(exc).__name__ == "SafetensorError" and ("StorageFull" in str(exc) or "code: 28" in str(exc)):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
            raise
        if metadata and len(metadata) > 1:
            _sort_safetensors_metadata(tmp)


def _sort_safetensors_metadata(path: Path) -> None:
    with open(path, "r+b") as fh:
        size = int.from_bytes(fh.read(8), "little")
        raw = fh.read(size)
        header = json.loads(raw, object_pairs_hook=dict)
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        # serde_json's compact form, which escapes what json.dumps(ensure_ascii=False) escapes: the same length
        canonical = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(canonical) > size:
            raise RuntimeError(f"{path}: sorted safetensors header is longer than the original ({len(canonical)} > "
                               f"{size} bytes)")
        fh.seek(8)
        fh.write(canonical.ljust(size, b" "))  # safetensors pads its header with spaces the same way
        fh.flush()
        os.fsync(fh.fileno())


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_json_or_none(path: str | os.PathLike):
    """A JSON file's content, or None when it is missing or unreadable (a report of a half-finished run)."""
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def write_parquet(path: str | os.PathLike, table) -> None:
    """Write a pyarrow Table (or a pandas-free dict of columns) atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(table, dict):
        table = pa.table(table)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_parquet(path: str | os.PathLike):
    import pyarrow.parquet as pq

    if os.path.isfile(path):
        # The same table as read_table, without importing pyarrow.dataset (about 0.4 s), which only folders need.
        return pq.ParquetFile(path).read()
    return pq.read_table(path)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def stable_hash(obj: Any) -> str:
    """A content hash of a JSON-serialisable object, independent of dict order."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=_json_default).encode()).hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
