"""The Ray executor: one actor per GPU in the Ray cluster (or ``num_workers`` CPU actors), each loading the generator
once and making whole shards.

The actors write the same shards, tars and manifests as the local executor (same plan, same micro-batch, same CPU
thread count), so a run started on one finishes on the other. The output folder must be on storage that every Ray
node can write (a shared file system). Ray is an optional extra; without it this executor raises a clear error.
"""
from __future__ import annotations

import logging
from typing import Sequence

from ...errors import RayUnavailableError
from ..backends.base import Generator
from ..plan import Shard
from ..shards import ShardJob, ShardResult, remove_stale_temps
from ._workers import fewer_workers_message
from .common import ShardWork, image_bar, set_cpu_threads, start_worker

log = logging.getLogger(__name__)


def _import_ray():
    try:
        import ray
        import ray.util
    except ImportError:
        raise RayUnavailableError("the ray executor needs the `ray` package, which is not installed",
                                  "pip install 'synthrec[ray]', or set generate.executor: local") from None
    return ray


class _ShardActor:
    def __init__(self, job: ShardJob):
        self.job = job
        self.generator = None
        start_worker(job.out_dir)

    def make(self, shard: Shard) -> ShardResult:
        if self.generator is None:
            # Ray sets CUDA_VISIBLE_DEVICES per actor, so "auto" lands on the actor's own GPU.
            self.generator = self.job.setup()
            set_cpu_threads(self.job.cpu_threads, str(getattr(self.generator, "device", "cpu")))
        return self.job.run(self.generator, shard)


def run_ray(job: ShardJob, shards: ShardWork | Sequence[Shard], *, generator: Generator | None = None,
            num_workers: int | None = None, progress: bool = True) -> list[ShardResult]:
    ray = _import_ray()
    work = ShardWork.of(shards)
    if not work.num_shards:
        return []
    if generator is not None:
        log.info("generate: the ray executor loads the generator in each actor; the passed one is not used")
    started = not ray.is_initialized()
    if started:
        ray.init()  # joins the cluster named by RAY_ADDRESS, or starts a local one
    gpus = int(ray.cluster_resources().get("GPU", 0))
    n = min(num_workers or max(1, gpus), work.num_shards)
    why = fewer_workers_message(num_workers, n, work.num_shards)
    if why:
        log.warning(why)
    gpus_each = (gpus / n if gpus < n else 1) if gpus else 0
    # One CPU each, so n CPU actors fit a small cluster; the plan's thread count is set inside the actor.
    actor_cls = ray.remote(num_gpus=gpus_each, num_cpus=0 if gpus else 1)(_ShardActor)
    actors = [actor_cls.remote(job) for _ in range(n)]
    log.info("generate: %d ray actors (%s GPU each)", n, gpus_each)
    pool = ray.util.ActorPool(actors)
    results = []
    in_flight: dict[int, Shard] = {}
    try:
        with image_bar(work.num_images, progress) as bar:
            for shard in work.shards:  # at most two shards per actor handed out: the plan is never queued whole
                while len(in_flight) >= 2 * n:
                    res = pool.get_next_unordered()
                    results.append(res)
                    bar.update(len(in_flight.pop(res.shard_id).units))
                pool.submit(lambda actor, s: actor.make.remote(s), shard)
                in_flight[shard.shard_id] = shard
            while in_flight:
                res = pool.get_next_unordered()
                results.append(res)
                bar.update(len(in_flight.pop(res.shard_id).units))
    except BaseException:
        remove_stale_temps(job.out_dir)  # killed actors cannot clean up after themselves
        raise
    finally:
        for a in actors:
            ray.kill(a)
        if started:
            ray.shutdown()  # a local cluster started here would otherwise outlive the call
    return sorted(results, key=lambda r: r.shard_id)
