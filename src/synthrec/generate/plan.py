"""Work units and shards: what to generate, and in which pieces.

A work unit is one image: (class_id, prompt_id, image_index) with its prompt text and seed, plus an init image and
strength under Real Guidance. Units are ordered by (class_id, prompt_id, image_index) and cut into shards of a fixed
size with integer ids; the shard is the unit of work, of output and of resume.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..errors import DataError
from ..seeds import derive_seed

PROMPT_COLUMNS = ("class_id", "prompt_id", "text")


@dataclass(frozen=True)
class RealGuidance:
    """Real Guidance input: real shots per class and the img2img strength (fraction of the chain that is re-noised,
    as StableDiffusionImg2ImgPipeline counts it). The paper's "noise to step t* of T" is not strength = t*/T: the
    few-shot stage matches GLIDE's ᾱ at t* on the pipeline's own schedule (``fewshot.guidance.rg_strength``).

    Each class's images are dealt round-robin over its shots, so they are split evenly across them (the first shots
    get one more when the count does not divide). ``shots`` maps class_id to image paths; each path is recorded as
    the image's ``source_shot``.
    """

    shots: Mapping[int, Sequence[str]]
    strength: float

    def __post_init__(self):
        if not 0.0 < float(self.strength) <= 1.0:
            raise DataError(f"Real Guidance strength {self.strength!r} is outside (0, 1]",
                            "give the fraction of the noise chain to re-run, e.g. 0.15 for t*=15 of 100")

    def fingerprint(self) -> dict[str, Any]:
        """What the plan records: strength and each shot's path and content hash (a replaced file is a new plan)."""
        shots = {}
        for cid in sorted(self.shots):
            shots[str(int(cid))] = [[str(p), _file_sha256(p)] for p in self.shots[cid]]
        return {"strength": float(self.strength), "shots": shots}


@dataclass(frozen=True)
class WorkUnit:
    class_id: int
    prompt_id: int
    image_index: int
    prompt: str
    seed: int
    init_image: str | None = None
    strength: float | None = None
    source_shot: str | None = None

    @property
    def image_id(self) -> str:
        # Stable and unique per (prompt, index); prompt ids are unique across the table. No dots: WebDataset splits
        # member names at the first dot.
        return f"{self.prompt_id:08d}-{self.image_index:05d}"


@dataclass(frozen=True)
class Shard:
    shard_id: int
    units: tuple[WorkUnit, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return shard_name(self.shard_id)


def shard_name(shard_id: int) -> str:
    return f"shard-{int(shard_id):05d}"


def load_prompts(prompts) -> "Any":
    """A prompts table from a pyarrow Table, a Parquet path, or a list of row dicts; validated."""
    import pyarrow as pa

    if isinstance(prompts, (str, os.PathLike)):
        path = Path(prompts)
        if not path.is_file():
            raise DataError(f"prompts file {str(path)!r} does not exist", "run the prompts stage first")
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    elif isinstance(prompts, pa.Table):
        table = prompts
    elif isinstance(prompts, (list, tuple)):
        table = pa.Table.from_pylist(list(prompts))
    else:
        raise DataError(f"prompts of type {type(prompts).__name__} are not supported",
                        "pass a pyarrow Table, a prompts.parquet path or a list of dicts")
    missing = [c for c in PROMPT_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"the prompts table has no column {missing[0]!r}",
                        f"give columns {', '.join(PROMPT_COLUMNS)} (as the prompts stage writes them)")
    if table.num_rows == 0:
        raise DataError("the prompts table is empty", "make at least one prompt per class")
    for col in ("class_id", "prompt_id", "text"):
        if table.column(col).null_count:
            raise DataError(f"the prompts table has empty values in {col!r}", "fill them or drop those rows")
    for col in ("class_id", "prompt_id"):
        if not pa.types.is_integer(table.column(col).type):
            raise DataError(f"prompts column {col!r} has type {table.column(col).type}, not integer",
                            "write integer ids")
    ids = table.column("prompt_id").to_pylist()
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"prompt_id {dup} appears more than once in the prompts table", "give every prompt a unique id")
    if min(ids) < 0 or min(table.column("class_id").to_pylist()) < 0:
        raise DataError("the prompts table has negative ids", "use ids >= 0")
    return table


def prompts_fingerprint(table) -> str:
    """Content hash of what shapes the images (class, prompt id, text), independent of row order."""
    rows = sorted(zip(table.column("class_id").to_pylist(), table.column("prompt_id").to_pylist(),
                      table.column("text").to_pylist()))
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


class WorkPlan:
    """Every image of the run, in a fixed order, computed on demand: memory grows with the prompts and one shard.

    Unit ``g`` (0-based, in (class_id, prompt_id, image_index) order) is image ``g % images_per_prompt`` of sorted
    prompt row ``g // images_per_prompt``; shard ``k`` holds units ``[k * shard_size, (k + 1) * shard_size)``. So a
    plan of 10**12 images costs no more memory than one of ten.
    """

    def __init__(self, prompts_table, images_per_prompt: int, run_seed: int, shard_size: int,
                 guidance: RealGuidance | None = None):
        if int(images_per_prompt) <= 0:
            raise DataError(f"images_per_prompt is {images_per_prompt}", "ask for at least one image per prompt")
        if int(shard_size) <= 0:
            raise DataError(f"shard_size is {shard_size}", "use a positive number of images per shard")
        table = load_prompts(prompts_table)
        self.rows = sorted(zip(table.column("class_id").to_pylist(), table.column("prompt_id").to_pylist(),
                               table.column("text").to_pylist()))
        self.images_per_prompt = int(images_per_prompt)
        self.run_seed = int(run_seed)
        self.shard_size = int(shard_size)
        self.guidance = guidance
        self.class_ids = sorted({int(c) for c, _, _ in self.rows})
        self._first_row_of_class: dict[int, int] = {}
        for i, (c, _, _) in enumerate(self.rows):
            self._first_row_of_class.setdefault(int(c), i)
        if guidance is not None:
            empty = [c for c in self.class_ids if not list(guidance.shots.get(c, ()))]
            if empty:
                raise DataError(f"class {empty[0]} has no real shots for Real Guidance",
                                "give at least one real image per class, or generate that class from text alone")
        self.num_units = len(self.rows) * self.images_per_prompt
        self.num_shards = -(-self.num_units // self.shard_size)

    def unit(self, g: int) -> WorkUnit:
        row, index = divmod(int(g), self.images_per_prompt)
        class_id, prompt_id, text = self.rows[row]
        seed = derive_seed(self.run_seed, class_id, prompt_id, index)
        if self.guidance is None:
            return WorkUnit(int(class_id), int(prompt_id), index, str(text), seed)
        shots = list(self.guidance.shots[class_id])
        j = (row - self._first_row_of_class[int(class_id)]) * self.images_per_prompt + index  # n-th of its class
        shot = str(shots[j % len(shots)])
        return WorkUnit(int(class_id), int(prompt_id), index, str(text), seed, init_image=shot,
                        strength=float(self.guidance.strength), source_shot=shot)

    def shard_units(self, shard_id: int) -> int:
        if not 0 <= shard_id < self.num_shards:
            raise IndexError(shard_id)
        return min(self.shard_size, self.num_units - shard_id * self.shard_size)

    def shard(self, shard_id: int) -> Shard:
        start = shard_id * self.shard_size
        return Shard(int(shard_id), tuple(self.unit(g) for g in range(start, start + self.shard_units(shard_id))))

    def shards(self, skip: Iterable[int] = ()) -> Iterator[Shard]:
        """Shards in id order, made one at a time, leaving out the ids in ``skip``."""
        skip = set(skip)
        return (self.shard(k) for k in range(self.num_shards) if k not in skip)


def plan_work(prompts_table, images_per_prompt: int, run_seed: int,
              guidance: RealGuidance | None = None) -> list[WorkUnit]:
    """Every image of the run as a list, in a fixed order: (class_id, prompt_id, image_index). Small plans only;
    :class:`WorkPlan` gives the same units one shard at a time."""
    plan = WorkPlan(prompts_table, images_per_prompt, run_seed, shard_size=1, guidance=guidance)
    return [plan.unit(g) for g in range(plan.num_units)]


def cut_shards(units: Sequence[WorkUnit], shard_size: int) -> list[Shard]:
    if int(shard_size) <= 0:
        raise DataError(f"shard_size is {shard_size}", "use a positive number of images per shard")
    return [Shard(i, tuple(units[s:s + shard_size])) for i, s in enumerate(range(0, len(units), shard_size))]


def _file_sha256(path: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"real shot {str(p)!r} does not exist", "check the few-shot list of chosen files")
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
