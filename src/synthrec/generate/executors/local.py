"""The local executor: in-process on one device, or one spawned worker per visible GPU (or per ``num_workers``).

Each worker loads the generator once and takes whole shards as they are handed out, a few at a time, so a faster
GPU simply makes more shards and a plan of millions of shards is never queued whole. Workers are spawned, never
forked (CUDA cannot be used in a forked child); they exit when the parent dies and hold the folder's workers lock,
so a resume never runs beside them (see ``synthrec._lock``).
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import time
from typing import Any, Iterable, Sequence

from ..backends.base import Generator
from ..plan import Shard
from ..shards import ShardJob, ShardResult, remove_stale_temps
from ._workers import fewer_workers_message
from .common import ShardWork, image_bar, set_cpu_threads, start_worker

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


def run_local(job: ShardJob, shards: ShardWork | Sequence[Shard], *, generator: Generator | None = None,
              num_workers: int | None = None, progress: bool = True) -> list[ShardResult]:
    work = ShardWork.of(shards)
    if not work.num_shards:
        return []
    devices = worker_devices(job.device, num_workers)[:work.num_shards]
    used = 1 if generator is not None else len(devices)
    why = fewer_workers_message(num_workers, used, work.num_shards, passed_generator=generator is not None)
    if why:
        log.warning(why)
    if generator is not None or len(devices) <= 1:
        if generator is None:
            generator = job.setup(devices[0] if devices and job.device == "auto" else None)
        return _in_process(generator, job, work, devices[0] if devices else "cpu", progress)
    return _in_pool(job, work, devices, progress)


def _in_process(generator: Generator, job: ShardJob, work: ShardWork, device: str,
                progress: bool) -> list[ShardResult]:
    import torch

    results = []
    before = torch.get_num_threads()
    set_cpu_threads(job.cpu_threads, str(getattr(generator, "device", device)))
    try:
        with image_bar(work.num_images, progress) as bar:
            for shard in work.shards:
                results.append(job.run(generator, shard, on_images=bar.update))
                log.debug("generate: %s done (%d images)", shard.name, results[-1].num_images)
    finally:
        torch.set_num_threads(before)
    return results


# -- spawned workers ---------------------------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _init_worker(job: ShardJob, devices) -> None:
    # Only cheap, infallible work here: an exception in a Pool initializer makes the pool respawn workers forever.
    _STATE.update(job=job, device=devices.get(), generator=None)
    start_worker(job.out_dir)


def _run_shard(shard: Shard) -> ShardResult:
    if _STATE["generator"] is None:
        job: ShardJob = _STATE["job"]
        set_cpu_threads(job.cpu_threads, _STATE["device"])
        _STATE["generator"] = job.setup(_STATE["device"])
    return _STATE["job"].run(_STATE["generator"], shard)


def bounded_unordered(submit, shards: Iterable[Shard], window: int, poll_seconds: float = 0.05):
    """Yield ``(shard, result)`` as each finishes, with at most ``window`` shards handed out at a time.

    ``submit(shard)`` returns a handle with ``ready()`` and ``get()`` (multiprocessing's AsyncResult)."""
    it = iter(shards)
    pending: list[tuple[Shard, Any]] = []
    exhausted = False
    while pending or not exhausted:
        while not exhausted and len(pending) < window:
            shard = next(it, None)
            if shard is None:
                exhausted = True
            else:
                pending.append((shard, submit(shard)))
        done = [p for p in pending if p[1].ready()]
        if not done:
            time.sleep(poll_seconds)
            continue
        for item in done:
            pending.remove(item)
            yield item[0], item[1].get()


def _in_pool(job: ShardJob, work: ShardWork, devices: list[str], progress: bool) -> list[ShardResult]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    for d in devices:
        queue.put(d)
    log.info("generate: %d worker processes on %s", len(devices), ", ".join(devices))
    results = []
    pool = ctx.Pool(len(devices), initializer=_init_worker, initargs=(job, queue))
    try:
        with image_bar(work.num_images, progress) as bar:
            for shard, res in bounded_unordered(lambda s: pool.apply_async(_run_shard, (s,)), work.shards,
                                                window=2 * len(devices)):
                results.append(res)
                bar.update(len(shard.units))
        pool.close()
    except BaseException:
        pool.terminate()
        pool.join()
        remove_stale_temps(job.out_dir)  # the killed workers could not clean up after themselves
        raise
    pool.join()
    return sorted(results, key=lambda r: r.shard_id)
