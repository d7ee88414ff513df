"""Helpers shared by benchmark modules: the arms of a side-by-side measurement, and generate folders written by the
project's own shard writer from stand-in images (so a benchmark needs no diffusion model)."""
from __future__ import annotations

from pathlib import Path

import _arms


def arms_with_before(current: str = "after", before: str = "before") -> dict[str, Path]:
    """``{current: this checkout's src, before: src of _arms.BEFORE_REF}``; without that commit only ``current``."""
    arms = {current: _arms.current_src()}
    old = _arms.before_src()
    if old is not None:
        arms[before] = old
    return arms


def skipped_before_line(name: str) -> str:
    return f"# {name}_before skipped: commit {_arms.BEFORE_REF} is not in this checkout's git history"


def _stamp_generator(bases):
    """A stand-in generator: the given images, each with its own seeded noise (so every image is unique)."""
    from typing import ClassVar

    import numpy as np
    from PIL import Image

    from synthrec.generate.backends.base import GenerationOutput, Generator

    class Stamp(Generator):
        generator_id = "bench:stamp"
        settings: ClassVar[dict] = {"bench": "stamp"}

        def text_to_image(self, prompts, seeds):
            out = []
            for s in seeds:
                base = bases[s % len(bases)]
                noise = np.random.default_rng(s).integers(-6, 7, base.shape)
                out.append(Image.fromarray(np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)))
            return GenerationOutput(out, list(seeds))

    return Stamp()


def build_generated(folder: Path, bases, n: int, per_shard: int = 1000, classes: int = 10) -> None:
    """A generate folder written by the real shard writer (tars + Parquet manifests), ``per_shard`` images a shard,
    image ``i`` of class ``i % classes``."""
    from synthrec.generate.plan import Shard, WorkUnit
    from synthrec.generate.shards import ShardJob, make_shard

    generator = _stamp_generator(bases)
    job = ShardJob(out_dir=str(folder), generator_spec="bench:stamp", generator_kwargs={}, batch_size=250,
                   class_names={c: f"class {c:02d}" for c in range(classes)})
    for shard_id, start in enumerate(range(0, n, per_shard)):
        units = tuple(WorkUnit(class_id=i % classes, prompt_id=i // 100, image_index=i % 100, prompt=f"p{i % classes}",
                               seed=i) for i in range(start, min(n, start + per_shard)))
        make_shard(generator, job, Shard(shard_id, units))


def smooth_bases(size: int, count: int = 64):
    """``count`` smooth RGB images of ``size`` px (upscaled noise): PNGs that compress like photos, not like noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return [np.asarray(Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((size, size),
                                                                                                Image.BICUBIC))
            for _ in range(count)]
