"""Generation: prompts -> synthetic images in resumable shards, with a Parquet manifest per shard.

    from synthrec.generate import generate, read_manifest, iter_images
    result = generate("run/prompts/prompts.parquet", cfg.generate, "run/generate", run_seed=0)
    for row, image in iter_images("run/generate"):
        ...
"""
from __future__ import annotations

from .backends import create_generator, create_generator_from_config, list_generator_backends
from .backends.base import GenerationOutput, Generator
from .executors import list_executors
from .manifest import COLUMNS as MANIFEST_COLUMNS
from .manifest import (complete_shards, iter_image_bytes, iter_images, load_image, manifest_schema, read_manifest,
                       usable_rows)
from .plan import RealGuidance, Shard, WorkUnit, cut_shards, plan_work, shard_name
from .run import GenerateResult, generate, holds_images
from ..seeds import derive_seed


def __getattr__(name: str):
    # Imported on first use: items reach the feature cache and torch, and readers of a run folder (the report,
    # `synthrec verify`) need only the manifest.
    if name == "generated_items":
        from .items import generated_items

        return generated_items
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "GenerateResult", "GenerationOutput", "Generator", "MANIFEST_COLUMNS", "RealGuidance", "Shard", "WorkUnit",
    "complete_shards", "create_generator", "create_generator_from_config", "cut_shards", "derive_seed", "generate",
    "generated_items", "holds_images", "iter_image_bytes", "iter_images", "list_executors", "list_generator_backends",
    "load_image", "manifest_schema", "plan_work", "read_manifest", "shard_name", "usable_rows",
]
