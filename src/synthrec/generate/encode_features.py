"""Feature encoding of generated images through the generation executors (local workers or a Ray cluster).

Millions of images take long to encode on one device, so the filter's features can be computed where the images
were made: one task per generation shard, each worker loading the encoder once, encoding that shard's images into
the content-addressed feature cache (whose writers never touch each other's files, see ``features/cache.py``). The filter
then finds every feature cached and encodes nothing; its result is the same as encoding in one process.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from .plan import Shard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureJob:
    """Encode one generation shard's images into the feature cache; plain data, so it crosses process boundaries."""

    out_dir: str            # the feature cache folder (the executors hold their workers lock here)
    generation_dir: str
    encoder_spec: str
    device: str = "auto"
    precision: str = "auto"
    batch_size: int = 256
    cpu_threads: int | None = None

    def setup(self, device: str | None = None):
        from ..features.encoders import create_encoder

        return create_encoder(self.encoder_spec, device=device or self.device, precision=self.precision)

    def run(self, encoder, shard: Shard, on_images=None):
        import pyarrow.parquet as pq

        from ..features import cache_items, encode_items
        from .items import generated_items
        from .manifest import manifest_path, manifest_schema
        from .shards import ShardResult

        t0 = time.perf_counter()
        table = pq.read_table(manifest_path(self.generation_dir, shard.shard_id))
        table = table.replace_schema_metadata(None).cast(manifest_schema())
        items = generated_items(self.generation_dir, table)
        encode_items(encoder, cache_items(items), self.out_dir, batch_size=self.batch_size, on_error="skip",
                     progress=False)
        if on_images is not None:
            on_images(len(items))
        return ShardResult(shard.shard_id, len(items), time.perf_counter() - t0)


def fill_feature_cache(generation_dir: str | Path, encoder_spec: str, cache_dir: str | Path, *,
                     executor: str = "local", num_workers: int | None = None, device: str = "auto",
                     precision: str = "auto", batch_size: int = 256, progress: bool = True) -> int:
    """Fill the feature cache with every generated image's features, one executor task per shard; returns the
    number of images handed out (images already cached cost a look-up only)."""
    from .executors import get_executor
    from .executors.common import ShardWork
    from .manifest import complete_shards, manifest_path

    import pyarrow.parquet as pq

    ids = complete_shards(generation_dir)
    sizes = {k: pq.ParquetFile(manifest_path(generation_dir, k)).metadata.num_rows for k in ids}
    work = ShardWork((Shard(k, tuple(range(sizes[k]))) for k in ids), len(ids), sum(sizes.values()))
    job = FeatureJob(out_dir=str(cache_dir), generation_dir=str(generation_dir), encoder_spec=encoder_spec,
                     device=device, precision=precision, batch_size=batch_size)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    log.info("features: encoding %d images of %d shards with %s on the %s executor", work.num_images, len(ids),
             encoder_spec, executor)
    get_executor(executor)(job, work, num_workers=num_workers, progress=progress)
    return work.num_images
