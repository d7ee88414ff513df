"""``generate``: prompts in, shards of images plus manifests out; resumable and deterministic.

Order of work: validate and plan everything (no model loaded yet), write or check ``plan.json``, skip complete
shards, load the generator only if something is left to do, then let the executor make the remaining shards.
"""
from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import _io
from .._lock import folder_lock, wait_for_orphans
from ..errors import ConfigError, DataError
from .backends import parse_spec
from .backends.options import options_from_config
from .backends.base import Generator
from .executors import get_executor
from .executors.common import ShardWork
from .manifest import IMAGES_DIR, MANIFEST_DIR, complete_shards, manifest_path
from .plan import RealGuidance, WorkPlan, load_prompts, prompts_fingerprint
from .runfolder import PLAN_FILE, make_plan, prepare_folder
from .shards import ShardJob, remove_stale_temps
from .verify import check_generation, drop_damaged

log = logging.getLogger(__name__)


@dataclass
class GenerateResult:
    out_dir: Path
    num_units: int                 # images the plan asks for
    num_shards: int
    num_images: int                # images in complete shards now
    shards_complete: list[int]     # ids of complete shards now
    shards_made: list[int]         # made by this call
    shards_skipped: list[int]      # complete before this call
    seconds: float
    manifests: list[Path] = field(default_factory=list)
    num_images_made: int = 0       # images made by this call

    @property
    def complete(self) -> bool:
        return len(self.shards_complete) == self.num_shards

    @property
    def images_per_second(self) -> float:
        made = self.num_images_made
        return made / self.seconds if self.seconds > 0 else 0.0


def _class_names(table, class_ids: Sequence[int], labels, out_dir: Path) -> list[str] | None:
    """Class names, indexed by class id: ``labels``, else the prompts table's class_name column, else the
    ``labels.json`` a run folder keeps (beside the images, in the run folder, or in its labels stage)."""
    from ..labels import LabelSpace

    names = None
    if labels is not None:
        names = list(labels.names) if isinstance(labels, LabelSpace) else [str(n) for n in labels]
    elif "class_name" in table.column_names and not table.column("class_name").null_count:
        by_id = dict(zip(table.column("class_id").to_pylist(), table.column("class_name").to_pylist()))
        if set(by_id) == set(range(len(by_id))):
            names = [by_id[i] for i in range(len(by_id))]
    if names is None:
        for candidate in (out_dir / "labels.json", out_dir.parent / "labels.json",
                          out_dir.parent / "labels" / "labels.json"):
            if candidate.is_file():
                names = list(LabelSpace.load(candidate).names)
                break
    if names is not None and len(names) < max(class_ids) + 1:
        raise DataError(f"the prompts use class id {max(class_ids)} but the label space has {len(names)} classes",
                        "make the prompts from the same label space")
    return names


def _class_folders(class_ids: Sequence[int], names: list[str] | None) -> dict[int, str]:
    """ImageFolder sub-folders: ``labels.unique_dirnames`` of the class names (numeric prefix keeps them unique)."""
    from ..labels import unique_dirnames

    if names is None:
        log.warning("generate: no class names given for the ImageFolder; folders are named by class id "
                    "(pass labels= to name them)")
        names = [f"class{i}" for i in range(max(class_ids) + 1)]
    folders = unique_dirnames(names)
    return {cid: folders[cid] for cid in sorted(set(class_ids))}


def _plan_settings(cfg, run_seed: int, prompts, guidance: RealGuidance | None, folders: dict[int, str] | None):
    from .backends.diffusers import resolve_dtype

    settings: dict[str, Any] = {
        "generator": cfg.generator, "steps": cfg.steps, "guidance_scale": cfg.guidance_scale,
        "height": cfg.height, "width": cfg.width, "scheduler": cfg.scheduler,
        "dtype": "fp32" if (parse_spec(cfg.generator)[0] == "glyph" and cfg.dtype == "auto")
        else resolve_dtype(cfg.dtype, cfg.device),
        "images_per_prompt": cfg.images_per_prompt, "shard_size": cfg.shard_size, "format": cfg.format,
        "image_format": cfg.image_format, "run_seed": int(run_seed), "prompts_sha256": prompts_fingerprint(prompts),
        "real_guidance": guidance.fingerprint() if guidance is not None else None,
    }
    # Only when set, so that plans written before these options existed still match.
    options = options_from_config(cfg)
    if options.get("adapters"):
        options["adapters"] = [{**a, "sha256": adapter_fingerprint(a["path"])} for a in options["adapters"]]
    settings.update(options)
    if folders is not None:
        settings["class_folders"] = {str(k): v for k, v in folders.items()}
    return settings


def adapter_fingerprint(path: str) -> str | None:
    """sha256 of a local adapter file (or of a folder's weight files), so that a retrained LoRA saved under the same
    name makes a new plan; None for a hub id, which the plan records by name."""
    from .._io import sha256_file

    p = Path(path).expanduser()
    if p.is_file():
        return sha256_file(p)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.suffix in (".safetensors", ".bin", ".pt") and f.is_file())
        return _hash_text(",".join(f"{f.relative_to(p)}={sha256_file(f)}" for f in files))
    return None


def _hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def _check_generator(generator: Generator, cfg, plan_settings: dict[str, Any]) -> None:
    """A ready generator must match the config, or the plan (and the manifest) would describe other images."""
    s = generator.settings
    checks = [("generator", generator.generator_id, cfg.generator), ("steps", s.get("steps"), cfg.steps),
              ("guidance_scale", s.get("guidance_scale"), cfg.guidance_scale),
              ("dtype", s.get("dtype"), plan_settings["dtype"])]
    if cfg.height is not None:
        checks.append(("height", s.get("height"), cfg.height))
    if cfg.width is not None:
        checks.append(("width", s.get("width"), cfg.width))
    if cfg.scheduler is not None:
        checks.append(("scheduler", s.get("scheduler"), cfg.scheduler))
    for key, have, want in checks:
        if have != want:
            raise ConfigError(f"the generator passed to generate() has {key}={have!r} but the config says {want!r}",
                              "create it with create_generator_from_config(cfg), or pass generator=None")


def generate(prompts, cfg, out_dir: str | Path, run_seed: int = 0, generator: Generator | None = None,
             stop_after_shards: int | None = None, init_images: RealGuidance | None = None, progress: bool = True,
             *, labels=None, overwrite: bool = False) -> GenerateResult:
    """Make every image the prompts and ``cfg`` (a GenerateConfig) ask for, in shards under ``out_dir``.

    Args:
        prompts: a pyarrow Table (class_id, prompt_id, text, ...), a prompts.parquet path, or a list of dicts.
        run_seed: every image's seed derives from it and the image's (class, prompt, index).
        generator: a ready generator (else one is loaded from ``cfg`` when there is work to do).
        stop_after_shards: make at most this many new shards, then return (the rest resume on the next call).
        init_images: Real Guidance: real shots per class and the img2img strength.
        labels: class names (a LabelSpace or a list) for ImageFolder sub-folders; default: ``labels.json`` next to
            or above ``out_dir``, else folders named by class id.
        overwrite: delete an earlier run's plan, images and manifests in ``out_dir`` first.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if stop_after_shards is not None and stop_after_shards < 0:
        raise ConfigError(f"stop_after_shards is {stop_after_shards}", "give a count >= 0, or None for all")
    table = load_prompts(prompts)
    plan = WorkPlan(table, cfg.images_per_prompt, run_seed, cfg.shard_size, guidance=init_images)
    names = _class_names(table, plan.class_ids, labels, out_dir)
    folders = _class_folders(plan.class_ids, names) if cfg.format == "imagefolder" else None
    class_names = {c: names[c] for c in plan.class_ids} if names else {}
    settings = _plan_settings(cfg, run_seed, table, init_images, folders)
    if generator is not None:
        _check_generator(generator, cfg, settings)
    if cfg.executor == "ray":
        from .executors.ray import _import_ray

        _import_ray()  # fail before touching the folder
    with folder_lock(out_dir):
        return _generate_locked(plan, table, cfg, out_dir, settings, folders, class_names, generator,
                                stop_after_shards, progress, overwrite, t0)


def _numerics(cfg, generator: Generator | None) -> dict[str, Any]:
    """The settings that can change an image's last bits on this machine (see runfolder.py)."""
    import torch

    from .executors.local import worker_devices

    if generator is not None:
        on_cpu = str(getattr(generator, "device", "cpu")).startswith("cpu")
        n = 1
    elif cfg.executor == "local":
        devices = worker_devices(cfg.device, cfg.num_workers)
        on_cpu, n = all(d.startswith("cpu") for d in devices), len(devices)
    else:
        on_cpu, n = cfg.device == "cpu", cfg.num_workers or 1
    # This process's thread budget split between the workers (one worker keeps it whole).
    threads = max(1, torch.get_num_threads() // n) if on_cpu else None
    return {"micro_batch": int(cfg.batch_size), "cpu_threads": threads}


def _generate_locked(plan: WorkPlan, table, cfg, out_dir: Path, settings, folders, class_names, generator,
                     stop_after_shards, progress, overwrite, t0) -> GenerateResult:
    in_force = prepare_folder(out_dir, make_plan(settings, plan.num_shards, plan.num_units, _numerics(cfg, generator)),
                              overwrite=overwrite)
    numerics = in_force.get("numerics") or _numerics(cfg, generator)
    if numerics["micro_batch"] != cfg.batch_size:
        log.info("generate: %s was started with batch_size %d; generating in batches of %d so that its images do not "
                 "depend on the batch size", out_dir, numerics["micro_batch"], numerics["micro_batch"])

    dropped = drop_damaged(out_dir, check_generation(out_dir, plan))
    done_before = [i for i in complete_shards(out_dir) if i < plan.num_shards]
    done_set = set(done_before)
    n_todo = plan.num_shards - len(done_before)
    if stop_after_shards is not None:
        n_todo = min(n_todo, stop_after_shards)
    todo_ids = itertools.islice((k for k in range(plan.num_shards) if k not in done_set), n_todo)
    log.info("generate: %d images (%d prompts x %d) in %d shards of up to %d; %d complete, %d to make now%s",
             plan.num_units, table.num_rows, cfg.images_per_prompt, plan.num_shards, cfg.shard_size,
             len(done_before), n_todo, f" ({dropped} damaged shards dropped)" if dropped else "")
    log.info("generate: %s -> %s (%s, %s), manifests in %s", cfg.generator, out_dir / IMAGES_DIR, cfg.format,
             cfg.image_format, out_dir / MANIFEST_DIR)

    made = []
    if n_todo:
        # Sizes of the shards to make, without building them: all full but possibly the last one.
        last = plan.num_shards - 1
        n_images = n_todo * plan.shard_size
        if last not in done_set and (stop_after_shards is None or n_todo == plan.num_shards - len(done_before)):
            n_images -= plan.shard_size - plan.shard_units(last)
        work = ShardWork((plan.shard(k) for k in todo_ids), n_todo, n_images)
        job = ShardJob(out_dir=str(out_dir), generator_spec=cfg.generator,
                       generator_kwargs=dict(device=cfg.device, dtype=cfg.dtype, steps=cfg.steps,
                                             guidance_scale=cfg.guidance_scale, height=cfg.height, width=cfg.width,
                                             scheduler=cfg.scheduler, **options_from_config(cfg)),
                       batch_size=numerics["micro_batch"], format=cfg.format, image_format=cfg.image_format,
                       class_folders=folders or {}, class_names=class_names, cpu_threads=numerics.get("cpu_threads"))
        remove_stale_temps(out_dir)  # safe: the folder lock is ours and no orphaned worker is left (checked next)
        wait_for_orphans(out_dir)
        run = get_executor(cfg.executor)
        try:
            made = run(job, work, generator=generator, num_workers=cfg.num_workers, progress=progress)
        except BaseException:
            n = len(complete_shards(out_dir))
            log.warning("generate: stopped with %d of %d shards complete in %s; run the same command again to "
                        "resume (finished shards are kept)", n, plan.num_shards, out_dir)
            raise

    complete = [i for i in complete_shards(out_dir) if i < plan.num_shards]
    result = GenerateResult(
        out_dir=out_dir, num_units=plan.num_units, num_shards=plan.num_shards,
        num_images=sum(plan.shard_units(i) for i in complete), shards_complete=complete,
        shards_made=[r.shard_id for r in made], shards_skipped=done_before, seconds=time.perf_counter() - t0,
        manifests=[manifest_path(out_dir, i) for i in complete], num_images_made=sum(r.num_images for r in made))
    log.info("generate: %d new images in %.1f s (%.2f images/s); %d of %d shards complete", result.num_images_made,
             result.seconds, result.images_per_second, len(complete), plan.num_shards)
    return result


# The plan settings that decide which images a folder holds and what they look like, as far as reusing the folder
# for the same images is concerned (dtype, shard layout and file format do not change what a reader gets).
_SAME_IMAGES = ("generator", "steps", "guidance_scale", "height", "width", "scheduler", "images_per_prompt")


def holds_images(out_dir: str | Path, prompts, cfg, run_seed: int = 0) -> bool:
    """Whether ``out_dir`` already holds every image ``generate(prompts, cfg, out_dir, run_seed)`` would make
    (text-to-image, no Real Guidance): its ``plan.json`` names the same prompts, seed and image settings, and all
    its shards are complete. Lets another stage reuse a folder instead of generating the same images again."""
    out_dir = Path(out_dir)
    try:
        plan = _io.read_json(out_dir / PLAN_FILE)
    except (OSError, ValueError):
        return False
    s = plan.get("settings", {})
    same = (s.get("prompts_sha256") == prompts_fingerprint(load_prompts(prompts))
            and s.get("real_guidance") is None and s.get("run_seed") == int(run_seed)
            and all(s.get(f) == getattr(cfg, f) for f in _SAME_IMAGES))
    return same and len(complete_shards(out_dir)) == plan.get("num_shards")
