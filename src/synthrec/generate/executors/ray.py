"""The Ray executor: one actor per GPU in the Ray cluster, each loading the generator once and making whole shards.

The output folder must be on storage that every Ray node can write (a shared file system). Ray is an optional
extra; without it this executor raises a clear error rather than doing nothing.
"""
from __future__ import annotations

import logging
from typing import Sequence

from ...errors import RayUnavailableError
from ..backends.base import Generator
from ..plan import Shard
from ..shards import ShardJob, ShardResult, make_shard
from ._progress import image_bar

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

    def make(self, shard: Shard) -> ShardResult:
        if self.generator is None:
            from ..backends import create_generator

            # Ray sets CUDA_VISIBLE_DEVICES per actor, so "auto" lands on the actor's own GPU.
            self.generator = create_generator(self.job.generator_spec, **self.job.generator_kwargs)
        return make_shard(self.generator, self.job, shard)


def run_ray(job: ShardJob, shards: Sequence[Shard], *, generator: Generator | None = None,
            num_workers: int | None = None, progress: bool = True) -> list[ShardResult]:
    ray = _import_ray()
    if not shards:
        return []
    if generator is not None:
        log.info("generate: the ray executor loads the generator in each actor; the passed one is not used")
    started = not ray.is_initialized()
    if started:
        ray.init()  # joins the cluster named by RAY_ADDRESS, or starts a local one
    gpus = int(ray.cluster_resources().get("GPU", 0))
    n = min(num_workers or max(1, gpus), len(shards))
    gpus_each = (gpus / n if gpus < n else 1) if gpus else 0
    actor_cls = ray.remote(num_gpus=gpus_each)(_ShardActor)
    actors = [actor_cls.remote(job) for _ in range(n)]
    log.info("generate: %d ray actors (%s GPU each)", n, gpus_each)
    pool = ray.util.ActorPool(actors)
    results = []
    by_id = {s.shard_id: s for s in shards}
    try:
        with image_bar(sum(len(s.units) for s in shards), progress) as bar:
            for res in pool.map_unordered(lambda actor, shard: actor.make.remote(shard), list(shards)):
                results.append(res)
                bar.update(len(by_id[res.shard_id].units))
    finally:
        for a in actors:
            ray.kill(a)
        if started:
            ray.shutdown()  # a local cluster started here would otherwise outlive the call
    return sorted(results, key=lambda r: r.shard_id)
