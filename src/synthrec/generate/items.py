"""Generated images (manifest rows) as image items for the feature cache, the CLIP filter and the trainer.

The filter and the encoders decode in a thread pool, so each thread keeps its own open shard tar: rows arrive
shard by shard, so a thread rarely re-opens a tar.
"""
from __future__ import annotations

import threading
from pathlib import Path

from ..features.items import ImageItem
from .manifest import _load, _TarCache, read_manifest, usable_rows

_local = threading.local()


class ManifestImage:
    """The loader of one manifest row: decodes the image from its shard tar (or file)."""

    def __init__(self, out_dir: Path, row: dict):
        self.out_dir, self.row = out_dir, row
        self.source = f"{row['path']}:{row['image_id']}"

    def __call__(self):
        tars = getattr(_local, "tars", None)
        if tars is None:
            tars = _local.tars = _TarCache()
        return _load(self.out_dir, self.row, tars, True)


def generated_items(gen_dir: str | Path, table=None) -> list[ImageItem]:
    """One :class:`~synthrec.features.items.ImageItem` per manifest row (all complete shards by default), keyed
    by the image's sha256. Images the safety checker blacked out are left out: they would teach their class a black
    square."""
    gen_dir = Path(gen_dir)
    table, _ = usable_rows(read_manifest(gen_dir) if table is None else table)
    return [ImageItem(r["image_id"], int(r["class_id"]), r["sha256"], ManifestImage(gen_dir, r),
                       f"{r['path']}:{r['image_id']}") for r in table.to_pylist()]
