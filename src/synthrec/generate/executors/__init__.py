"""Executors: where shards run. All take the same shards and write the same files; each returns the shards it made.

Protocol: ``run(job, shards, *, generator=None, num_workers=None, progress=True) -> list[ShardResult]``. A shard is
all-or-nothing (its manifest is written last), so an executor that stops half-way loses nothing that was finished.
"""
from __future__ import annotations

from typing import Callable

from ..._registry import Registry

EXECUTORS: Registry[Callable] = Registry("executor")


def fewer_workers_message(asked: int | None, used: int, n_shards: int, passed_generator: bool = False) -> str | None:
    """Why ``used`` workers run when ``asked`` were, as one line with the fix; None when nothing was cut."""
    if not asked or used >= asked:
        return None
    if passed_generator:
        return (f"generate: num_workers {asked} was asked, but a ready generator was passed, so all shards run in "
                "this process; pass none (the workers then load their own) to use several")
    shards = f"{n_shards} shard" + ("s" if n_shards != 1 else "")
    return (f"generate: num_workers {asked} was asked, but only {used} run: there {'is' if n_shards == 1 else 'are'} "
            f"{shards} left to make and a worker makes whole shards; lower generate.shard_size to split the work")


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
