"""The synthetic sets of the few-shot setting, made once and reused: B (text-to-image; by default the paper's
LE + CF), RG (Real Guidance from the shots) and RF (B after Real Filtering by the shots).

Every set's prompts come from the run's one generation-prompt function (``context.prompts_config``): the dataset's
own prompt ("a centered satellite photo of Forest." for EuroSAT) and LE prefix, as in the zero-shot stages.

A set lives in ``fewshot/synthetic/<kind>-<hash>/``, the hash covering everything that shapes its images: the
generation settings less the speed-only ones (the generate stage's own list, ``GENERATE_SPEED_ONLY``), the prompts,
the run seed and the Real Guidance shots. So one set serves every strategy, k and seed that asks for the same images.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import torch

from .. import _io
from ..errors import DataError
from ..stages import GENERATE_SPEED_ONLY, section_settings, stage_dir
from .guidance import rg_steps, rg_strength, t_star_for
from .real_filter import real_filter

if TYPE_CHECKING:
    from .real import Shots

log = logging.getLogger("synthrec")

# What the set folders' names left out before the speed-only list was shared with the generate stage; a folder
# named that way is renamed on first use, so sets made before are not made again.
_LEGACY_SPEED_ONLY = {"batch_size", "device", "executor", "num_workers", "shard_size"}


@dataclass
class SynSet:
    kind: str
    folder: Path
    feats: torch.Tensor
    labels: torch.Tensor
    source_shot: list[str | None]
    info: dict = field(default_factory=dict)
    image_ids: list[str] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)


class SyntheticSets:
    """The sets one ``run_fewshot`` call has made or loaded, by kind (and k and seed for RG)."""

    def __init__(self, run: "FewShotRun", generator=None):
        self.run = run
        self._generator = generator
        self._sets: dict[str, SynSet] = {}

    def generator(self):
        if self._generator is None:
            from ..generate import create_generator_from_config

            self._generator = create_generator_from_config(self.run.cfg.generate)
        return self._generator

    def basic(self) -> SynSet:
        """B: text-to-image from the run's prompts for ``fewshot.b_prompts`` (LE sentences by default, or the basic
        prompt), ``images_per_class`` per class, then the CLIP filter when ``fewshot.b_filter`` (the paper's
        few-shot B is LE + CF); one set for every k and seed. The zero-shot spine's own generate stage is reused
        when it made exactly these images."""
        if "B" in self._sets:
            return self._sets["B"]
        from ..context import prompts_config
        from ..generate import holds_images
        from ..prompts import build_prompts

        run = self.run
        table = build_prompts(run.labels, prompts_config(run.cfg, run.fs.b_prompts), seed=run.cfg.seed)
        per_prompt = _ceil_div(run.fs.images_per_class, _max_prompts_per_class(table))
        gen_cfg = run.cfg.generate.model_copy(update={"images_per_prompt": per_prompt})
        spine = stage_dir(run.run_dir, "generate")
        reuse = holds_images(spine, table, gen_cfg, run.cfg.seed)
        if reuse:
            log.info("few-shot: B reuses the generate stage's images in %s", spine)
            folder = spine
        else:
            folder = self._folder("B", gen_cfg, table, None)
            self._generate(table, gen_cfg, folder, None)
        s = self._load("B", folder, cap=run.fs.images_per_class)
        s.info.update(prompts=sorted(set(table.column("text").to_pylist())), reused_spine=reuse,
                      prompt_strategy=run.fs.b_prompts)
        if run.fs.b_filter:
            s = self._clip_filtered(s)
        self._sets["B"] = s
        return s

    def _clip_filtered(self, s: SynSet) -> SynSet:
        from .clip_filter import clip_filter_mask

        run = self.run
        keep = clip_filter_mask(run.zero_shot_head(), s.feats, s.labels, s.image_ids, s.sha256, seed=run.cfg.seed,
                                threshold=run.cfg.filter.threshold)
        n = len(run.names)
        log.info("few-shot: the CLIP filter keeps %d of %d B images", int(keep.sum()), len(keep))
        mask = keep.tolist()
        return SynSet(s.kind, s.folder, s.feats[keep], s.labels[keep],
                      [x for x, m in zip(s.source_shot, mask) if m],
                      {**s.info, "clip_filter": {"kept": int(keep.sum()), "of": len(keep),
                                                 "kept_per_class": torch.bincount(s.labels[keep],
                                                                                  minlength=n).tolist()}},
                      [x for x, m in zip(s.image_ids, mask) if m], [x for x, m in zip(s.sha256, mask) if m])

    def class_prompt_table(self, names: Sequence[str] | None = None) -> list[dict]:
        """One prompt per class: RG's template (default: the prompts' template) with the class name, or with the
        given stand-ins (textual inversion's learned tokens)."""
        from ..context import prompts_config
        from ..prompts.basic import basic_prompt

        run = self.run
        template = run.fs.rg_template or prompts_config(run.cfg, "basic").template
        return [{"class_id": c, "prompt_id": c, "text": basic_prompt(n, template, run.labels.domain)}
                for c, n in enumerate(names or run.names)]

    def real_guidance(self, shots: "Shots", *, kind: str = "RG", generator=None, table: list[dict] | None = None,
                      adapters: dict | None = None) -> SynSet:
        """RG: img2img from every shot at the strength matched to the paper's t* for k shots, with the class
        prompt; ``images_per_class`` per class split evenly over the class's shots. ``generator``/``table``/
        ``adapters``: the same with an adapted generator (``lora_RG``, ``textual_inversion_RG``)."""
        from ..generate import RealGuidance

        key = f"{kind}-k{shots.k}-seed{shots.seed}"
        if key in self._sets:
            return self._sets[key]
        run = self.run
        t_star = t_star_for(shots.k, run.fs.t_star)
        gen = generator or self.generator()
        strength = rg_strength(t_star, gen)
        steps, start, start_ab = rg_steps(strength, gen, run.cfg.generate.steps)
        table = table or self.class_prompt_table()
        gen_cfg = run.cfg.generate.model_copy(update={"images_per_prompt": run.fs.images_per_class,
                                                     "steps": steps})
        guidance = RealGuidance(shots=shots.by_class, strength=strength)
        folder = self._folder(kind, gen_cfg, table, guidance, adapters)
        self._generate(table, gen_cfg, folder, guidance, gen)
        s = self._load(kind, folder)
        s.info.update(t_star=t_star, strength=strength, steps=steps, start_timestep=start, start_alpha_bar=start_ab,
                      prompts=[r["text"] for r in table])
        self._sets[key] = s
        return s

    def real_filtered(self, shots: "Shots") -> SynSet:
        """RF: the B set, keeping an image iff its nearest real shot (cosine) is of its intended class."""
        b = self.basic()
        n = len(self.run.names)
        keep = real_filter(b.feats, b.labels, shots.feats, torch.tensor(shots.labels), num_classes=n).keep
        kept = torch.bincount(b.labels[keep], minlength=n).tolist()
        mask = keep.tolist()
        return SynSet("RF", b.folder, b.feats[keep], b.labels[keep], [s for s, m in zip(b.source_shot, mask) if m],
                      {**b.info, "rule": "nearest real shot (cosine) is of the intended class", "kept": int(keep.sum()),
                       "of": len(keep), "kept_per_class": kept},
                      [s for s, m in zip(b.image_ids, mask) if m], [s for s, m in zip(b.sha256, mask) if m])

    def _folder(self, kind: str, gen_cfg, table, guidance, adapters: dict | None = None) -> Path:
        from ..generate.plan import load_prompts, prompts_fingerprint

        def name(generate_settings: dict) -> str:
            desc = {"kind": kind, "run_seed": self.run.cfg.seed, "generate": generate_settings,
                    **({"adapters": adapters} if adapters else {}),
                    "prompts": prompts_fingerprint(load_prompts(table)),
                    "real_guidance": guidance.fingerprint() if guidance is not None else None}
            return f"{kind}-{_io.stable_hash(desc)[:16]}"

        root = stage_dir(self.run.run_dir, "fewshot") / "synthetic"
        folder = root / name(section_settings(gen_cfg, GENERATE_SPEED_ONLY))
        legacy = root / name(gen_cfg.model_dump(mode="json", exclude=_LEGACY_SPEED_ONLY))
        if not folder.exists() and legacy.is_dir():
            log.info("few-shot: %s was named by the old speed-only list; renaming it to %s", legacy.name, folder.name)
            legacy.rename(folder)  # generate() still checks its plan against the settings
        return folder

    def _generate(self, table, gen_cfg, folder: Path, guidance, generator=None) -> None:
        from ..generate import generate

        gen = generator or self.generator()
        if getattr(gen, "steps", gen_cfg.steps) != gen_cfg.steps:
            gen = gen.replace(steps=gen_cfg.steps)
        t0 = time.perf_counter()
        res = generate(table, gen_cfg, folder, run_seed=self.run.cfg.seed, generator=gen, init_images=guidance,
                       progress=self.run.progress, labels=self.run.labels)
        if not res.complete:
            raise DataError(f"generation into {folder} stopped with {len(res.shards_complete)} of {res.num_shards} "
                            "shards", "run the same command again to resume")
        if res.num_images_made:
            log.info("few-shot: made %d images in %s (%.1f s)", res.num_images_made, folder.name,
                     time.perf_counter() - t0)

    def _load(self, kind: str, folder: Path, cap: int | None = None) -> SynSet:
        from ..generate import read_manifest, usable_rows

        run = self.run
        table, _ = usable_rows(read_manifest(folder))
        rows = table.select(["image_id", "class_id", "sha256", "source_shot"]).to_pylist()
        if cap is not None:  # B may round up to whole prompts; keep the first ``cap`` of each class, in plan order
            seen: dict[int, int] = {}
            keep = []
            for r in rows:
                seen[r["class_id"]] = seen.get(r["class_id"], 0) + 1
                keep.append(seen[r["class_id"]] <= cap)
            rows = [r for r, m in zip(rows, keep) if m]
        feats = encode_generated(run.encoder, folder, [r["sha256"] for r in rows], run.cache_dir,
                                 progress=run.progress)
        labels = torch.tensor([r["class_id"] for r in rows], dtype=torch.long)
        return SynSet(kind, folder, feats, labels, [r["source_shot"] for r in rows],
                      {"folder": str(folder.relative_to(run.run_dir)) if folder.is_relative_to(run.run_dir)
                       else str(folder), "images": len(rows),
                       "per_class": torch.bincount(labels, minlength=len(run.names)).tolist()},
                      [r["image_id"] for r in rows], [r["sha256"] for r in rows])


def encode_generated(encoder, folder: Path, shas: Sequence[str], cache_dir, *, progress: bool = False) -> torch.Tensor:
    """Features of generated images by their manifest sha256, through the feature cache (the same items the
    zero-shot filter and trainer read: decoded lazily, one open shard tar per decoding thread)."""
    from ..features import encode_with_cache
    from ..features.items import cache_items
    from ..generate import generated_items

    items = generated_items(folder)
    by_sha = dict(zip((it.sha256 for it in items), cache_items(items)))
    missing = [s for s in shas if s not in by_sha]
    if missing:
        raise DataError(f"image with sha256 {missing[0][:16]} is not in {folder}'s manifest",
                        "delete the synthetic set's folder and run again to remake it")
    return encode_with_cache(encoder, [by_sha[s] for s in shas], cache_dir, progress=progress)


def _ceil_div(a: int, b: int) -> int:
    return -(-int(a) // int(b))


def _max_prompts_per_class(table) -> int:
    ids = table.column("class_id").to_pylist()
    return max(ids.count(c) for c in set(ids))
