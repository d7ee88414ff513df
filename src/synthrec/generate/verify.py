"""Is a generation folder complete? Checked against its plan, not against whatever files happen to be there.

Complete means: every shard of the plan has a manifest, each manifest lists exactly the image ids the plan puts in
that shard (each once, in plan order), and the shard's images are there with the bytes the manifest records. The
quick check (run whenever a stage reuses generation) compares ids and the tar's size recorded beside the manifest; the
full check (``synthrec verify``) also hashes every byte. A damaged shard is repaired by dropping it (manifest first,
so it reads as "not done") and generating again, which remakes exactly that shard.
"""
from __future__ import annotations

import logging
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .. import _io
from ..errors import DataError, RunFolderError
from .manifest import IMAGE_EXTS, IMAGES_DIR, MANIFEST_DIR, complete_shards, manifest_path
from .plan import RealGuidance, WorkPlan, shard_name

log = logging.getLogger(__name__)

# Written into each manifest's Parquet metadata (not a column, so the table readers see stays the same).
TAR_BYTES_KEY = b"synthrec.tar_bytes"
TAR_SHA256_KEY = b"synthrec.tar_sha256"


@dataclass(frozen=True)
class ShardProblem:
    shard_id: int
    problem: str

    def __str__(self) -> str:
        return f"{shard_name(self.shard_id)}: {self.problem}"


def plan_from_folder(out_dir: str | Path, prompts) -> WorkPlan:
    """The WorkPlan a folder's ``plan.json`` describes, for the given prompts (which must be the planned ones)."""
    from .plan import load_prompts, prompts_fingerprint
    from .runfolder import PLAN_FILE

    out_dir = Path(out_dir)
    try:
        plan = _io.read_json(out_dir / PLAN_FILE)
        settings = plan["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        raise RunFolderError(f"{out_dir / PLAN_FILE} is missing or damaged, so the images' plan is unknown",
                             "generate into a new folder, or pass --overwrite to make them again") from None
    table = load_prompts(prompts)
    if settings.get("prompts_sha256") != prompts_fingerprint(table):
        raise DataError(f"the prompts are not the ones {out_dir} was generated from",
                        "give the run's own prompts/prompts.parquet")
    guidance = None
    if settings.get("real_guidance"):
        rg = settings["real_guidance"]
        guidance = RealGuidance({int(c): [p for p, _ in shots] for c, shots in rg["shots"].items()}, rg["strength"])
    return WorkPlan(table, settings["images_per_prompt"], settings["run_seed"], settings["shard_size"], guidance)


def _expected_ids(plan: WorkPlan, shard_id: int) -> list[str]:
    start = shard_id * plan.shard_size
    return [plan.unit(g).image_id for g in range(start, start + plan.shard_units(shard_id))]


def check_shard(out_dir: Path, plan: WorkPlan, shard_id: int, *, full: bool) -> str | None:
    """What is wrong with one shard that has a manifest, or None."""
    import pyarrow.parquet as pq

    path = manifest_path(out_dir, shard_id)
    try:
        pf = pq.ParquetFile(path)
        table = pf.read(columns=["image_id", "key", "path", "sha256"])
    except Exception as exc:  # pyarrow raises several types for a damaged file
        return f"its manifest cannot be read ({type(exc).__name__})"
    ids = table.column("image_id").to_pylist()
    want = _expected_ids(plan, shard_id)
    if ids != want:
        missing = len(set(want) - set(ids))
        extra = len(ids) - len(want) + missing
        return (f"its manifest lists {len(ids)} images, the plan {len(want)} "
                f"({missing} missing, {max(extra, 0)} unplanned or repeated)")
    paths = set(table.column("path").to_pylist())
    meta = pf.schema_arrow.metadata or {}
    if all(p.endswith(".tar") for p in paths):
        return _check_tar(out_dir, paths, table, meta, full)
    for rel, sha in zip(table.column("path").to_pylist(), table.column("sha256").to_pylist()):
        f = out_dir / rel
        if not f.is_file():
            return f"image {rel} is missing"
        if full and _io.sha256_file(f) != sha:
            return f"image {rel} does not match its sha256 (corrupt or replaced)"
    return None


def _check_tar(out_dir: Path, paths: set[str], table, meta: dict, full: bool) -> str | None:
    if len(paths) != 1:
        return f"its manifest points at {len(paths)} tars"
    rel = next(iter(paths))
    tar_path = out_dir / rel
    if not tar_path.is_file():
        return f"{rel} is missing"
    size = tar_path.stat().st_size
    if TAR_BYTES_KEY in meta and size != int(meta[TAR_BYTES_KEY]):
        return f"{rel} has {size} bytes, its manifest says {int(meta[TAR_BYTES_KEY])} (truncated or replaced)"
    if not full:
        return None
    if TAR_SHA256_KEY in meta and _io.sha256_file(tar_path) != meta[TAR_SHA256_KEY].decode():
        return f"{rel} does not match the sha256 its manifest records (corrupt or replaced)"
    want = dict(zip(table.column("key").to_pylist(), table.column("sha256").to_pylist()))
    seen = set()
    try:
        with tarfile.open(tar_path, "r") as tar:
            for info in tar:
                key, _, ext = info.name.partition(".")
                if ext.lower() in IMAGE_EXTS and key in want:
                    fh = tar.extractfile(info)
                    if fh is None or _io.sha256_bytes(fh.read()) != want[key]:
                        return f"image {key} in {rel} does not match its sha256"
                    seen.add(key)
    except (OSError, tarfile.TarError) as exc:
        return f"{rel} cannot be read ({type(exc).__name__})"
    if seen != set(want):
        return f"{rel} lacks {len(set(want) - seen)} of its images"
    return None


@dataclass
class GenerationCheck:
    num_shards: int
    damaged: list[ShardProblem]    # shards with a manifest that does not match the plan or its bytes
    missing: int                   # planned shards without a manifest
    missing_examples: list[int]    # the first few of them

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.missing

    def summary(self, limit: int = 3) -> str:
        parts = [str(p) for p in self.damaged[:limit]]
        if len(self.damaged) > limit:
            parts.append(f"{len(self.damaged) - limit} more damaged")
        if self.missing:
            ex = ", ".join(shard_name(k) for k in self.missing_examples[:limit])
            more = ", ..." if self.missing > limit else ""
            parts.append(f"{self.missing} of {self.num_shards} shards not generated ({ex}{more})")
        return "; ".join(parts)


def check_generation(out_dir: str | Path, plan: WorkPlan, *, full: bool = False) -> GenerationCheck:
    """Check every shard that has a manifest against ``plan``, and count the planned shards that have none. Work
    grows with the shards made, not with the plan (a plan of millions of shards is not walked)."""
    out_dir = Path(out_dir)
    done = complete_shards(out_dir)
    damaged = [ShardProblem(k, "a manifest for a shard the plan does not have") for k in done
               if k >= plan.num_shards]
    planned_done = [k for k in done if k < plan.num_shards]
    for k in planned_done:
        problem = check_shard(out_dir, plan, k, full=full)
        if problem:
            damaged.append(ShardProblem(k, problem))
    done_set = set(planned_done)
    examples = []
    for k in range(plan.num_shards):
        if len(examples) == 5:
            break
        if k not in done_set:
            examples.append(k)
    return GenerationCheck(plan.num_shards, sorted(damaged, key=lambda p: p.shard_id),
                           plan.num_shards - len(planned_done), examples)


def drop_shard(out_dir: str | Path, shard_id: int) -> None:
    """Forget a shard so the next generate remakes it: manifest first (the done-marker), then its images."""
    out_dir = Path(out_dir)
    manifest_path(out_dir, shard_id).unlink(missing_ok=True)
    (out_dir / IMAGES_DIR / f"{shard_name(shard_id)}.tar").unlink(missing_ok=True)
    # ImageFolder images are overwritten in place when the shard is remade.


def drop_damaged(out_dir: str | Path, check: GenerationCheck) -> int:
    """Drop each damaged shard so the next generate remakes it; returns how many were dropped."""
    for p in check.damaged:
        log.warning("generate: %s; it will be made again", p)
        drop_shard(out_dir, p.shard_id)
    return len(check.damaged)


__all__ = ["GenerationCheck", "ShardProblem", "check_generation", "check_shard", "drop_damaged", "drop_shard",
           "plan_from_folder", "MANIFEST_DIR"]
