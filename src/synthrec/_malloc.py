"""Keep freed memory for reuse while a model runs on CPU (glibc's allocator).

A forward pass of a diffusion UNet or an image encoder on CPU allocates and frees tensors of a few MB each, many
times a second. glibc serves blocks that large with ``mmap`` and hands them back to the kernel on ``free``, so every
forward touches fresh pages that the kernel must fault in and zero: on the 2-core development machine, generating 500
glyph images took about 2 million minor page faults and 3.5 s of kernel time, a fifth of the wall time
(``getrusage``; ``benchmarks/run.py --only demo`` has the ``glyph_generation_allocator`` line). This is why PyTorch's CPU tuning guides preload jemalloc or tcmalloc; the
same effect, inside the process, is raising glibc's mmap and trim thresholds for as long as the model runs, so freed
blocks stay in the heap and the next forward reuses them. Only where memory comes from changes, never a value computed.

On leaving, the thresholds go back to the values glibc's own adjustment reaches for such workloads and the cached
memory is returned to the kernel (``malloc_trim``). Elsewhere than glibc (macOS, Windows, musl) this does nothing;
``SYNTHREC_REUSE_FREED_MEMORY=0`` turns it off (the benchmark's other arm, or a process that preloads jemalloc).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import platform
import threading
from typing import Iterator

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
_KEEP = 1 << 30  # blocks up to 1 GiB come from the heap, and up to 1 GiB of free heap is kept
# What glibc's dynamic threshold grows to once blocks of many MB have been freed (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
# systems), with the trim threshold at twice it, as glibc sets it.
_AFTER_MMAP, _AFTER_TRIM = 32 << 20, 64 << 20

_lock = threading.Lock()
_depth = 0
_tuned = False


@functools.lru_cache(maxsize=1)
def _libc():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
        return libc
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[bool]:
    """Inside the block, freed tensors' memory stays with the process for the next allocation. Nests; yields whether
    the allocator could be tuned (glibc only)."""
    global _depth, _tuned
    libc = _libc() if os.environ.get("SYNTHREC_REUSE_FREED_MEMORY", "1") != "0" else None
    if libc is None:
        yield False
        return
    with _lock:
        if _depth == 0:
            _tuned = libc.mallopt(_M_MMAP_THRESHOLD, _KEEP) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, _KEEP) == 1
        _depth += 1
    try:
        yield _tuned
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, _AFTER_MMAP)
                libc.mallopt(_M_TRIM_THRESHOLD, _AFTER_TRIM)
                libc.malloc_trim(0)
