"""The local executor: in-process on one device, or one spawned worker per visible GPU.

Each worker loads the generator once and takes whole shards from a shared queue (``imap_unordered``), so a faster
GPU simply makes more shards. Workers are spawned, never forked: CUDA cannot be used in a forked child.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
from typing import Any, Sequence

from ..backends import create_generator
from ..backends.base import Generator
from ..plan import Shard
from ..shards import ShardJob, ShardResult, make_shard, remove_stale_temps
from ._workers import fewer_workers_message
from ._progress import image_bar

log = logging.getLogger(__name__)


def worker_devices(device: str, num_workers: int | None) -> list[str]:
    """The device of each worker: one per visible CUDA GPU by default, else a single in-process worker."""
    import torch

    n_gpu = torch.cuda.device_count() if device in ("auto", "cuda") else 0
    if n_gpu:
        n = num_workers or n_gpu
        return [f"cuda:{i % n_gpu}" for i in range(n)]
    base = "cpu" if device == "auto" else device
    return [base] * (num_workers or 1)


def run_local(job: ShardJob, shards: Sequence[Shard], *, generator: Generator | None = None,
              num_workers: int | None = None, progress: bool = True) -> list[ShardResult]:
    if not shards:
        return []
    devices = worker_devices(job.generator_kwargs.get("device", "auto"), num_workers)[:len(shards)]
    used = 1 if generator is not None else len(devices)
    why = fewer_workers_message(num_workers, used, len(shards), passed_generator=generator is not None)
    if why:
        log.warning(why)
    if generator is not None or len(devices) <= 1:
        if generator is None:
            kw = dict(job.generator_kwargs)
            if devices and kw.get("device", "auto") == "auto":
                kw["device"] = devices[0]
            generator = create_generator(job.generator_spec, **kw)
        return _in_process(generator, job, shards, progress)
    return _in_pool(job, shards, devices, progress)


def _in_process(generator: Generator, job: ShardJob, shards: Sequence[Shard], progress: bool) -> list[ShardResult]:
    results = []
    with image_bar(sum(len(s.units) for s in shards), progress) as bar:
        for shard in shards:
            results.append(make_shard(generator, job, shard, on_images=bar.update))
            log.debug("generate: %s done (%d images)", shard.name, results[-1].num_images)
    return results


# -- spawned workers ---------------------------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _init_worker(job: ShardJob, devices, threads: int) -> None:
    # Only cheap, infallible work here: an exception in a Pool initializer makes the pool respawn workers forever.
    _STATE.update(job=job, device=devices.get(), threads=threads, generator=None)


def _run_shard(shard: Shard) -> ShardResult:
    if _STATE["generator"] is None:
        import torch

        if _STATE["device"].startswith("cpu"):
            torch.set_num_threads(_STATE["threads"])
        job: ShardJob = _STATE["job"]
        _STATE["generator"] = create_generator(job.generator_spec, **dict(job.generator_kwargs,
                                                                          device=_STATE["device"]))
    return make_shard(_STATE["generator"], _STATE["job"], shard)


def _in_pool(job: ShardJob, shards: Sequence[Shard], devices: list[str], progress: bool) -> list[ShardResult]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    for d in devices:
        queue.put(d)
    n_cpu_workers = sum(d.startswith("cpu") for d in devices)
    threads = max(1, (os.cpu_count() or 1) // max(1, n_cpu_workers))
    log.info("generate: %d worker processes on %s", len(devices), ", ".join(devices))
    results = []
    by_id = {s.shard_id: s for s in shards}
    pool = ctx.Pool(len(devices), initializer=_init_worker, initargs=(job, queue, threads))
    try:
        with image_bar(sum(len(s.units) for s in shards), progress) as bar:
            for res in pool.imap_unordered(_run_shard, shards):
                results.append(res)
                bar.update(len(by_id[res.shard_id].units))
        pool.close()
    except BaseException:
        pool.terminate()
        pool.join()
        remove_stale_temps(job.out_dir)  # the killed workers could not clean up after themselves
        raise
    pool.join()
    return sorted(results, key=lambda r: r.shard_id)
