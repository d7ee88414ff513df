"""What every executor shares: the stream of shards to make, the progress bar, and the worker set-up."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from ..plan import Shard


@dataclass
class ShardWork:
    """Shards made one at a time (a plan of millions of images never sits in memory), with their totals."""

    shards: Iterator[Shard]
    num_shards: int
    num_images: int

    @classmethod
    def of(cls, shards: "ShardWork | Sequence[Shard] | Iterable[Shard]") -> "ShardWork":
        if isinstance(shards, ShardWork):
            return shards
        shards = list(shards)
        return cls(iter(shards), len(shards), sum(len(s.units) for s in shards))


def image_bar(total: int, enabled: bool, desc: str = "generate"):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="img", desc=desc, disable=not enabled, dynamic_ncols=True)


def set_cpu_threads(threads: int | None, device: str) -> None:
    """The plan's CPU thread count: a different count can change an image's last bits, so every worker uses it."""
    if threads and str(device).startswith("cpu"):
        import torch

        torch.set_num_threads(int(threads))


def start_worker(out_dir: str, parent: int | None = None) -> None:
    """In a worker process: die with the parent (pid ``parent``), and show a resume that this worker still writes
    here."""
    from ..._lock import exit_with_parent, hold_as_worker

    exit_with_parent(parent)
    hold_as_worker(out_dir)
