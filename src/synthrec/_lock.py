"""One writer per run folder, and no resume beside the workers of a dead run.

``<folder>/.synthrec.lock`` is held with ``flock`` for as long as a process writes into the folder. The kernel drops
the lock when its holder dies, however it dies, so a stale lock (a kill -9, a power cut on a local disk) is taken
over by the next process without guessing from pids or ages; the owner info in the file (pid, host, command, start
time) only serves the message the second process prints.

Worker processes hold ``<folder>/.workers.lock`` shared while they write shards. Before it starts its own workers a
process takes that lock exclusively for a moment: it cannot while any worker of an earlier, killed run still lives.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

from .errors import RunFolderBusyError, RunFolderError

LOCK_FILE = ".synthrec.lock"
WORKERS_LOCK_FILE = ".workers.lock"

_held: dict[str, list] = {}  # resolved lock path -> [fd, depth]: re-entrant within one process
_held_guard = threading.Lock()


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise RunFolderError(f"cannot write in {str(path.parent)!r} ({os.strerror(exc.errno)})",
                                 "make the folder writable, or choose another run_dir") from None
        raise


def _owner_text(fd: int) -> str:
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw.decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("since", 0)))
    command = str(info.get("command", ""))[:120]
    return f"process {info.get('pid')} on {info.get('host')} (`{command}`, since {since})"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the folder's lock for the block; RunFolderBusyError naming the holder if another process has it."""
    path = (Path(folder) / LOCK_FILE).absolute()
    key = str(path)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            entry = _held[key]
        else:
            entry = None
    if entry is None:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner_text(fd)
            os.close(fd)
            raise RunFolderBusyError(f"{str(Path(folder))!r} is in use by {owner}",
                                     "wait for it to finish or stop it; only one synthrec process may write a run "
                                     "folder") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv),
                "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        with _held_guard:
            _held[key] = entry = [fd, 1]
    try:
        yield
    finally:
        with _held_guard:
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                os.close(entry[0])  # closing drops the flock; the owner info stays for the curious


def hold_as_worker(folder: str | os.PathLike) -> int:
    """Called in a worker process: hold the folder's workers lock shared until the process exits."""
    fd = _open(Path(folder) / WORKERS_LOCK_FILE)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def wait_for_orphans(folder: str | os.PathLike, timeout: float = 15.0) -> None:
    """Return once no worker of an earlier run writes in ``folder``; RunFolderBusyError after ``timeout`` seconds.

    Orphans notice their parent's death within a second (see :func:`exit_with_parent`), so a short wait covers a
    resume started right after a kill."""
    path = Path(folder) / WORKERS_LOCK_FILE
    if not path.exists():
        return
    fd = _open(path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RunFolderBusyError(
                        f"worker processes of an earlier run still write in {str(Path(folder))!r}",
                        f"stop them (`fuser -v {path}` lists them), then run the same command again") from None
                time.sleep(0.2)
    finally:
        os.close(fd)


def exit_with_parent(parent: int | None = None, poll_seconds: float = 0.5) -> None:
    """Called in a worker process: exit at once when the process that started it (pid ``parent``) is gone, kill -9
    included. Pass the pid the parent saw itself: a parent killed while the worker was still importing has already
    made the worker an orphan, and ``os.getppid()`` would then name the init process."""
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)  # the parent cannot collect our work any more; the next run remakes the shard

    threading.Thread(target=watch, name="synthrec-parent-watch", daemon=True).start()
