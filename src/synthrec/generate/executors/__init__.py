"""Executors: where shards run. All take the same shards and write the same files; each returns the shards it made.

Protocol: ``run(job, shards, *, generator=None, num_workers=None, progress=True) -> list[ShardResult]``. A shard is
all-or-nothing (its manifest is written last), so an executor that stops half-way loses nothing that was finished.
"""
from __future__ import annotations

from typing import Callable

from ..._registry import Registry
from ._workers import fewer_workers_message  # noqa: F401 (public: executors report it)

EXECUTORS: Registry[Callable] = Registry("executor")


@EXECUTORS.register("local")
def _local(*args, **kw):
    from .local import run_local

    return run_local(*args, **kw)


@EXECUTORS.register("ray")
def _ray(*args, **kw):
    from .ray import run_ray

    return run_ray(*args, **kw)


def get_executor(name: str) -> Callable:
    return EXECUTORS.get(name)


def list_executors(pattern: str = "*") -> list[str]:
    return EXECUTORS.list(pattern)
