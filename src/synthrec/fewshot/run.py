"""``run_fewshot``: every (shots k × seed × strategy) of a config's ``fewshot`` section, end to end.

For each k and seed: draw the shots, make or reuse the synthetic set the strategy needs, tune the head from the
zero-shot text head, evaluate it on the real test set. Everything lands below ``<run_dir>/fewshot/``:

    shots/shots-k{k}-seed{s}.json        the chosen real images (and shots/<sha256>.png for in-memory ones)
    synthetic/<kind>-<hash>/             generated sets, named by a hash of everything that shapes their images, so
                                         one set serves every strategy, k and seed that asks for the same images
    runs/k{k}-seed{s}-{strategy}/        head.safetensors + head.json + result.json (skipped when already done)
    results.json, report.html            every run's top-1 and per-class top-1; the curves

Strategies: ``none`` = real shots only ("CT w. init"); ``B`` = mix training with the basic-prompt set; ``RF`` = B
after Real Filtering by the shots; ``RG`` = mix training with Real Guidance images of the shots; ``lora`` /
``textual_inversion`` (and their ``*_RG`` forms) = mix training with images of the generator adapted to the shots
(:mod:`synthrec.fewshot.adapted`; adapters under ``adapters/``). Baselines
``phase_syn_real`` / ``phase_real_syn`` use the RG set, as the paper's Table 7 does.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from .. import _io
from ..errors import ConfigError, DataError
from .guidance import rg_steps, rg_strength, strength_table, t_star_for
from .mix import Features, TuneResult, phase_wise, tune
from .real_filter import real_filter
from .sampling import class_orders, draw_decodable, pixels_sha256, write_shots

log = logging.getLogger("synthrec")

RESULTS_FILE = "results.json"
RESULT_FILE = "result.json"
STRATEGY_TITLES = {"none": "CT w. init (real only)", "B": "mix, B", "RF": "mix, RF", "RG": "mix, RG",
                   "lora": "mix, LoRA", "lora_RG": "mix, LoRA + RG", "textual_inversion": "mix, TI",
                   "textual_inversion_RG": "mix, TI + RG",
                   "phase_syn_real": "phase syn→real (RG)", "phase_real_syn": "phase real→syn (RG)"}
MIX_STRATEGIES = ("B", "RF", "RG", "lora", "lora_RG", "textual_inversion", "textual_inversion_RG")


class NoSyntheticData(Exception):
    """A strategy's synthetic set came out empty (e.g. Real Filtering dropped every image)."""


@dataclass
class Shots:
    k: int
    seed: int
    indices: list[int]          # into the real pool
    labels: list[int]
    images: list[Any]           # decoded PIL images
    sha256: list[str]           # of the decoded pixels
    files: list[str]            # files RG reads (the original file, or a PNG written under shots/)
    feats: torch.Tensor | None = None

    @property
    def by_class(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for y, f in zip(self.labels, self.files):
            out.setdefault(int(y), []).append(f)
        return out


@dataclass
class SynSet:
    kind: str
    folder: Path
    feats: torch.Tensor
    labels: torch.Tensor
    source_shot: list[str | None]
    info: dict = field(default_factory=dict)


class FewShotRun:
    """The state of one ``run_fewshot`` call: the loaded models, data and the sets made so far."""

    def __init__(self, cfg, run_dir: Path, *, encoder=None, generator=None, progress: bool = False):
        from .. import api
        from ..features.encoders._common import resolve_device

        if cfg.fewshot is None:
            raise ConfigError("the config has no fewshot section", "add `fewshot:` (see configs/digits_fewshot.yaml)")
        self.cfg, self.fs = cfg, cfg.fewshot
        self.run_dir = Path(run_dir)
        self.out = self.run_dir / "fewshot"
        self.labels = api.resolve_labels(cfg)
        self.names = list(self.labels.names)
        self.templates = api.head_templates(cfg)
        self.encoder = encoder if encoder is not None else api.get_encoder(cfg.train.encoder, cfg.train.device)
        self.cache_dir = api.feature_cache_dir(cfg)
        self.device = resolve_device(cfg.train.device)
        self._generator = generator
        self.progress = progress
        self._syn: dict[str, SynSet] = {}
        self._check_config()

    # -- setup ------------------------------------------------------------------------------------------------------
    def _check_config(self) -> None:
        fs = self.fs
        if not fs.strategies and not fs.baselines:
            raise ConfigError("fewshot has no strategies and no baselines", "list at least one, e.g. [none, RG]")
        if any(s.endswith("RG") for s in fs.strategies) or fs.baselines:
            for k in fs.shots:
                t_star_for(k, fs.t_star)  # a missing t* fails now, not after an hour of generation

    def zero_shot_head(self):
        from ..train import zero_shot_head

        return zero_shot_head(self.encoder, self.names, self.templates)

    def load_pool(self):
        """The real training set the shots come from (decoded lazily; only chosen shots are ever decoded)."""
        from ..datasets import get_dataset_info, load_dataset, load_image_folder

        fs = self.fs
        if fs.image_folder:
            ds = load_image_folder(fs.image_folder, classnames=self.names, skip_corrupt=False)
        else:
            name = fs.dataset or self.cfg.labels.dataset
            if not name:
                raise ConfigError("fewshot has no real training set",
                                  "set fewshot.dataset (a built-in dataset) or fewshot.image_folder")
            split = fs.split or get_dataset_info(name).fewshot_train_split
            if split is None:
                raise ConfigError(f"{name} has no few-shot training split", "set fewshot.split")
            ds = load_dataset(name, root=fs.root, split=split, download=fs.download, skip_corrupt=False)
        names = list(getattr(ds, "classnames", self.names))
        if names != self.names:
            raise DataError(f"the few-shot training set's classes ({len(names)}) differ from the label space "
                            f"({len(self.names)}) in names or order",
                            "use a real training set with the same classes, in the same order")
        return ds

    def load_test(self):
        from .. import api

        ds = api.load_test_set(self.cfg, self.labels)
        items, labels = dataset_items(ds, skip_corrupt=bool(self.cfg.evaluate and self.cfg.evaluate.skip_corrupt),
                                      what="test image")
        feats = self.encode(items, "few-shot: encoding test images")
        return Features(feats, labels), getattr(ds, "name", "test")

    def encode(self, items, desc: str) -> torch.Tensor:
        from ..features import encode_with_cache

        return encode_with_cache(self.encoder, items, self.cache_dir, progress=self.progress, desc=desc)

    # -- shots ------------------------------------------------------------------------------------------------------
    def draw_shots(self, pool, k: int, seed: int) -> Shots:
        ids = [source_of(pool, i) for i in range(len(pool))]
        orders = class_orders(pool.labels, seed, ids=ids, num_classes=len(self.names))

        def decode(i):
            image, _ = pool[i]
            return image

        picked = draw_decodable(orders, k, decode, skip_corrupt=self.fs.skip_corrupt, describe=lambda i: ids[i],
                                classnames=self.names)
        idx, labels, images, shas, files = [], [], [], [], []
        paths = getattr(pool, "paths", None)
        for c in sorted(picked):
            for i, image in picked[c]:
                sha = pixels_sha256(image)
                idx.append(i)
                labels.append(c)
                images.append(image)
                shas.append(sha)
                files.append(paths[i] if paths is not None else self._shot_png(image, sha, ids[i]))
        shots = Shots(k, seed, idx, labels, images, shas, files)
        write_shots(self.out / "shots", k, seed, {c: [i for i, _ in v] for c, v in picked.items()}, ids,
                    classnames=self.names, sha256=dict(zip(idx, shas)), files=dict(zip(idx, files)))
        from ..features import InMemoryImage

        items = [(s, InMemoryImage(im, ids[i])) for s, im, i in zip(shas, images, idx)]
        shots.feats = self.encode(items, f"few-shot: encoding {k}-shot real images")
        return shots

    def _shot_png(self, image, sha: str, source: str) -> str:
        """In-memory shots (built-in digits) become files, because Real Guidance's work units name a file; the
        name carries the shot's id, so a manifest's ``source_shot`` says which real image it was."""
        import io

        from ..labels import safe_dirname

        path = self.out / "shots" / "images" / f"{safe_dirname(source, 60)}-{sha[:16]}.png"
        if not path.is_file():
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            _io.write_bytes(path, buf.getvalue())
        return str(path)

    # -- synthetic sets ---------------------------------------------------------------------------------------------
    def generator(self):
        if self._generator is None:
            from ..generate import create_generator_from_config

            self._generator = create_generator_from_config(self.cfg.generate)
        return self._generator

    def basic_set(self) -> SynSet:
        """B: text-to-image from the basic prompt of each class, ``images_per_class`` per class; one set for every
        k and seed. The zero-shot spine's own generate stage is reused when it made exactly these images."""
        if "B" in self._syn:
            return self._syn["B"]
        from ..generate.plan import prompts_fingerprint
        from ..prompts import build_prompts

        table = build_prompts(self.labels, self.cfg.prompts, seed=self.cfg.seed, strategy="basic")
        per_prompt = _ceil_div(self.fs.images_per_class, _max_prompts_per_class(table))
        gen_cfg = self.cfg.generate.model_copy(update={"images_per_prompt": per_prompt})
        spine = self._reusable_spine(gen_cfg, prompts_fingerprint(table))
        folder = spine or self._syn_folder("B", gen_cfg, table, None)
        if spine is None:
            self._generate(table, gen_cfg, folder, None)
        s = self._load_set("B", folder, cap=self.fs.images_per_class)
        s.info.update(prompts=sorted(set(table.column("text").to_pylist())), reused_spine=spine is not None)
        self._syn["B"] = s
        return s

    def class_prompt_table(self, names: Sequence[str] | None = None) -> list[dict]:
        """One prompt per class: RG's template (default: the prompts' template) with the class name, or with the
        given stand-ins (textual inversion's learned tokens)."""
        from ..prompts.basic import basic_prompt

        template = self.fs.rg_template or self.cfg.prompts.template
        return [{"class_id": c, "prompt_id": c, "text": basic_prompt(n, template, self.labels.domain)}
                for c, n in enumerate(names or self.names)]

    def rg_set(self, shots: Shots, *, kind: str = "RG", generator=None, table: list[dict] | None = None,
               adapters: dict | None = None) -> SynSet:
        """RG: img2img from every shot at the strength matched to the paper's t* for k shots, with the class
        prompt; ``images_per_class`` per class split evenly over the class's shots. ``generator``/``table``/
        ``adapters``: the same with an adapted generator (``lora_RG``, ``textual_inversion_RG``)."""
        from ..generate import RealGuidance

        key = f"{kind}-k{shots.k}-seed{shots.seed}"
        if key in self._syn:
            return self._syn[key]
        t_star = t_star_for(shots.k, self.fs.t_star)
        gen = generator or self.generator()
        strength = rg_strength(t_star, gen)
        steps, start, start_ab = rg_steps(strength, gen, self.cfg.generate.steps)
        table = table or self.class_prompt_table()
        gen_cfg = self.cfg.generate.model_copy(update={"images_per_prompt": self.fs.images_per_class,
                                                      "steps": steps})
        guidance = RealGuidance(shots=shots.by_class, strength=strength)
        folder = self._syn_folder(kind, gen_cfg, table, guidance, adapters)
        self._generate(table, gen_cfg, folder, guidance, gen)
        s = self._load_set(kind, folder)
        s.info.update(t_star=t_star, strength=strength, steps=steps, start_timestep=start, start_alpha_bar=start_ab,
                      prompts=[r["text"] for r in table])
        self._syn[key] = s
        return s

    def rf_set(self, shots: Shots) -> SynSet:
        b = self.basic_set()
        r = real_filter(b.feats, b.labels, shots.feats, torch.tensor(shots.labels), num_classes=len(self.names))
        keep = r.keep
        kept = torch.bincount(b.labels[keep], minlength=len(self.names)).tolist()
        return SynSet("RF", b.folder, b.feats[keep], b.labels[keep],
                      [s for s, m in zip(b.source_shot, keep.tolist()) if m],
                      {**b.info, "rule": "nearest real shot (cosine) is of the intended class", "kept": int(keep.sum()),
                       "of": len(keep), "kept_per_class": kept})

    def _reusable_spine(self, gen_cfg, prompts_sha: str) -> Path | None:
        """The run's own generate folder, if its plan is exactly this set's and all its shards are complete."""
        from ..generate import complete_shards

        folder = self.run_dir / "generate"
        try:
            plan = _io.read_json(folder / "plan.json")
        except (OSError, ValueError):
            return None
        s = plan.get("settings", {})
        same = (s.get("prompts_sha256") == prompts_sha and s.get("real_guidance") is None
                and s.get("run_seed") == self.cfg.seed
                and all(s.get(f) == getattr(gen_cfg, f) for f in
                        ("generator", "steps", "guidance_scale", "height", "width", "scheduler", "images_per_prompt")))
        if same and len(complete_shards(folder)) == plan.get("num_shards"):
            log.info("few-shot: B reuses the generate stage's images in %s", folder)
            return folder
        return None

    def _syn_folder(self, kind: str, gen_cfg, table, guidance, adapters: dict | None = None) -> Path:
        from ..generate.plan import load_prompts, prompts_fingerprint

        desc = {"kind": kind, "run_seed": self.cfg.seed,
                **({"adapters": adapters} if adapters else {}),
                "generate": gen_cfg.model_dump(mode="json", exclude={"batch_size", "device", "executor",
                                                                      "num_workers", "shard_size"}),
                "prompts": prompts_fingerprint(load_prompts(table)),
                "real_guidance": guidance.fingerprint() if guidance is not None else None}
        return self.out / "synthetic" / f"{kind}-{_io.stable_hash(desc)[:16]}"

    def _generate(self, table, gen_cfg, folder: Path, guidance, generator=None) -> None:
        from ..generate import generate

        gen = generator or self.generator()
        if getattr(gen, "steps", gen_cfg.steps) != gen_cfg.steps:
            gen = gen.replace(steps=gen_cfg.steps)
        t0 = time.perf_counter()
        res = generate(table, gen_cfg, folder, run_seed=self.cfg.seed, generator=gen, init_images=guidance,
                       progress=self.progress, labels=self.labels)
        if not res.complete:
            raise DataError(f"generation into {folder} stopped with {len(res.shards_complete)} of {res.num_shards} "
                            "shards", "run the same command again to resume")
        if res.num_images_made:
            log.info("few-shot: made %d images in %s (%.1f s)", res.num_images_made, folder.name,
                     time.perf_counter() - t0)

    def _load_set(self, kind: str, folder: Path, cap: int | None = None) -> SynSet:
        from ..generate import read_manifest

        table = read_manifest(folder)
        rows = table.select(["image_id", "class_id", "sha256", "source_shot"]).to_pylist()
        if cap is not None:  # B may round up to whole prompts; keep the first ``cap`` of each class, in plan order
            seen: dict[int, int] = {}
            keep = []
            for r in rows:
                seen[r["class_id"]] = seen.get(r["class_id"], 0) + 1
                keep.append(seen[r["class_id"]] <= cap)
            rows = [r for r, m in zip(rows, keep) if m]
        feats = encode_generated(self.encoder, folder, [r["sha256"] for r in rows], self.cache_dir,
                                 progress=self.progress)
        labels = torch.tensor([r["class_id"] for r in rows], dtype=torch.long)
        return SynSet(kind, folder, feats, labels, [r["source_shot"] for r in rows],
                      {"folder": str(folder.relative_to(self.run_dir)) if folder.is_relative_to(self.run_dir)
                       else str(folder), "images": len(rows),
                       "per_class": torch.bincount(labels, minlength=len(self.names)).tolist()})

    # -- training ---------------------------------------------------------------------------------------------------
    def train(self, strategy: str, shots: Shots, zs_head) -> tuple[TuneResult, SynSet | None]:
        fs, tc = self.fs, self.cfg.train
        real = Features(shots.feats, shots.labels)
        seed = train_seed(self.cfg.seed, shots.k, shots.seed, strategy)
        common = dict(weight_decay=fs.weight_decay, syn_batch_size=fs.syn_batch_size,
                      real_batch_size=fs.real_batch_size, sce_weight=fs.sce_weight, temperature=fs.temperature,
                      grad_clip=tc.grad_clip, device=self.device, progress=self.progress, epochs=fs.epochs)
        if strategy == "none":
            # CT on the shots alone, with CT's lr (the paper's phase-wise real phase uses the same 2e-3).
            return tune(zs_head, real=real, lr=fs.phase_lr, seed=seed, desc="CT w. init", **common), None
        from .adapted import adapted_set

        makers = {"B": self.basic_set, "RF": lambda: self.rf_set(shots)}
        makers.update({s: (lambda s=s: adapted_set(self, shots, s)) for s in MIX_STRATEGIES if s.startswith(
            ("lora", "textual_inversion"))})
        syn_set = makers.get(strategy, lambda: self.rg_set(shots))()
        if len(syn_set.labels) == 0:
            raise NoSyntheticData(f"{strategy} left no synthetic images")
        syn = Features(syn_set.feats, syn_set.labels)
        if strategy in MIX_STRATEGIES:
            return tune(zs_head, syn=syn, real=real, lr=fs.lr, seed=seed, desc=f"mix {strategy}", **common), syn_set
        order = strategy.removeprefix("phase_")
        return phase_wise(zs_head, order, syn=syn, real=real, lr=fs.phase_lr, seed=seed, **common), syn_set


def run_fewshot(cfg, run_dir: str | Path, *, encoder=None, generator=None, progress: bool = False) -> dict:
    """Run every (k, seed, strategy) of ``cfg.fewshot``; write ``fewshot/results.json`` and ``fewshot/report.html``.

    Returns a summary: the zero-shot top-1 and, per strategy and k, the mean top-1 over seeds. ``encoder`` and
    ``generator`` may be passed ready-made (tests); by default they come from ``cfg.train`` and ``cfg.generate``.
    """
    from ..evaluate import top1_report
    from .report import write_fewshot_report

    t0 = time.perf_counter()
    ctx = FewShotRun(cfg, Path(run_dir), encoder=encoder, generator=generator, progress=progress)
    fs = ctx.fs
    test, test_name = ctx.load_test()
    zs = ctx.zero_shot_head()
    zs_report = _report(top1_report, zs, test, ctx.names)
    log.info("few-shot: zero-shot top-1 %.2f%% on %d test images", 100 * zs_report["top1"], len(test))
    pool = ctx.load_pool()
    runs = []
    for k in fs.shots:
        for seed in fs.seeds:
            shots = ctx.draw_shots(pool, k, seed)
            for strategy in [*fs.strategies, *fs.baselines]:
                runs.append(_one_run(ctx, strategy, shots, zs, test, top1_report))
    results = {
        "zero_shot": zs_report,
        "runs": runs,
        "classnames": ctx.names,
        "test_set": {"name": test_name, "n": len(test)},
        "encoder": {"id": ctx.encoder.encoder_id, "fingerprint": ctx.encoder.fingerprint},
        "templates": ctx.templates,
        "real_guidance": _rg_table(ctx),
        "real_filter_rule": "keep a synthetic image iff its nearest real shot (cosine, CLIP features) is of its "
                            "intended class",
        "reported_model": "final_epoch",
        "seconds": time.perf_counter() - t0,
    }
    _io.write_json(ctx.out / RESULTS_FILE, results)
    report = write_fewshot_report(ctx.run_dir)
    summary = summarize(results)
    log.info("few-shot: %d runs in %.0f s; report %s", len(runs), results["seconds"], report)
    return {"runs": len(runs), "zero_shot_top1": zs_report["top1"], "mean_top1": summary,
            "results": str(ctx.out / RESULTS_FILE), "report": str(report)}


def _one_run(ctx: FewShotRun, strategy: str, shots: Shots, zs, test: Features, top1_report) -> dict:
    name = f"k{shots.k}-seed{shots.seed}-{strategy}"
    folder = ctx.out / "runs" / name
    key = _run_key(ctx, strategy, shots)
    try:
        done = _io.read_json(folder / RESULT_FILE)
        if done.get("key") == key:
            log.info("few-shot: %s is done, reusing it", name)
            return done
    except (OSError, ValueError):
        pass
    try:
        res, syn = ctx.train(strategy, shots, zs)
    except NoSyntheticData as exc:
        # Recorded, not raised: one empty filter result must not sink the other runs; the report shows a gap.
        log.warning("few-shot: %s skipped: %s", name, exc)
        out = {"key": key, "k": shots.k, "seed": shots.seed, "strategy": strategy, "top1": None, "per_class": {},
               "skipped": str(exc), "n_real": len(shots.labels), "n_syn": 0}
        _io.write_json(folder / RESULT_FILE, out)
        return out
    report = _report(top1_report, res.head, test, ctx.names)
    res.head.meta.update({"classnames": ctx.names, "encoder_id": ctx.encoder.encoder_id,
                          "encoder_fingerprint": ctx.encoder.fingerprint, "kind": f"fewshot-{strategy}"})
    res.head.save(folder)
    out = {"key": key, "k": shots.k, "seed": shots.seed, "strategy": strategy, "top1": report["top1"],
           "per_class": {n: v["top1"] for n, v in report["per_class"].items()}, "n_test": report["n"],
           "n_real": len(shots.labels), "n_syn": int(len(syn.labels)) if syn is not None else 0,
           "synthetic": {k: v for k, v in (syn.info if syn is not None else {}).items()},
           "train": res.to_json()}
    _io.write_json(folder / RESULT_FILE, out)
    log.info("few-shot: %-26s top-1 %.2f%%  (%d real, %d synthetic)", name, 100 * out["top1"], out["n_real"],
             out["n_syn"])
    return out


def _report(top1_report, head, data: Features, names) -> dict:
    with torch.no_grad():
        preds = head.eval()(data.feats).argmax(-1)
    return top1_report(preds, data.labels, names)


def _run_key(ctx: FewShotRun, strategy: str, shots: Shots) -> str:
    fs = ctx.fs
    return _io.stable_hash({
        "strategy": strategy, "k": shots.k, "seed": shots.seed, "shots": shots.sha256, "run_seed": ctx.cfg.seed,
        "fewshot": fs.model_dump(mode="json", exclude={"shots", "seeds", "strategies", "baselines", "adapt"}),
        **({"adapt": fs.adapt.model_dump(mode="json")} if strategy.startswith(("lora", "textual_inversion")) else {}),
        "encoder": ctx.encoder.fingerprint, "templates": ctx.templates, "grad_clip": ctx.cfg.train.grad_clip,
        "generate": ctx.cfg.generate.model_dump(mode="json", exclude={"batch_size", "device", "executor",
                                                                       "num_workers", "shard_size"})
        if strategy != "none" else None,
        "prompts": ctx.cfg.prompts.model_dump(mode="json") if strategy != "none" else None,
    })


def _rg_table(ctx: FewShotRun) -> list[dict] | None:
    if not any(s.endswith("RG") for s in ctx.fs.strategies) and not ctx.fs.baselines:
        return None
    gen = ctx.generator()
    rows = strength_table(sorted({t_star_for(k, ctx.fs.t_star) for k in ctx.fs.shots}), gen,
                          ctx.cfg.generate.steps)
    for r in rows:
        r["shots"] = [k for k in ctx.fs.shots if t_star_for(k, ctx.fs.t_star) == r["t_star"]]
        n, st, ab = rg_steps(r["strength"], gen, ctx.cfg.generate.steps)
        r.update(rg_steps=n, rg_start_timestep=st, rg_start_alpha_bar=ab)
    return rows


def summarize(results: dict) -> dict[str, dict[int, float]]:
    """Mean top-1 over seeds, by strategy and k."""
    acc: dict[str, dict[int, list[float]]] = {}
    for r in results["runs"]:
        if r["top1"] is not None:
            acc.setdefault(r["strategy"], {}).setdefault(int(r["k"]), []).append(r["top1"])
    return {s: {k: sum(v) / len(v) for k, v in sorted(d.items())} for s, d in acc.items()}


# ------------------------------------------------------------------------------------------------------------------
# helpers

def train_seed(run_seed: int, k: int, shot_seed: int, strategy: str) -> int:
    msg = f"synthrec/fewshot/train/v1:{int(run_seed)}:{int(k)}:{int(shot_seed)}:{strategy}".encode()
    return int.from_bytes(hashlib.sha256(msg).digest()[:8], "big") >> 1


def source_of(ds, i: int) -> str:
    fn = getattr(ds, "source_of", None)
    return fn(i) if fn is not None else f"{getattr(ds, 'name', 'real')}[{i}]"


def dataset_items(ds, *, skip_corrupt: bool, what: str) -> tuple[list, list[int]]:
    """(content key, loader) items for the feature cache, and labels, for a loaded dataset; keyed by decoded
    pixels as the evaluate stage keys them, so both stages share cached test features."""
    from ..features import InMemoryImage, image_sha256

    items, labels = [], []
    for i in range(len(ds)):
        try:
            image, label = ds[i]
        except Exception as exc:  # any decoder failure inside a dataset
            if not skip_corrupt:
                raise DataError(f"{what} {source_of(ds, i)} cannot be decoded ({' '.join(str(exc).split())[:160]})",
                                "fix or remove it, or set evaluate.skip_corrupt: true") from None
            log.warning("skipping undecodable %s %s", what, source_of(ds, i))
            continue
        items.append((image_sha256(image), InMemoryImage(image, source_of(ds, i))))
        labels.append(int(label))
    if not items:
        raise DataError(f"no usable {what}s", "check the dataset's root and split")
    return items, labels


def encode_generated(encoder, folder: Path, shas: Sequence[str], cache_dir, *, progress: bool = False) -> torch.Tensor:
    """Features of generated images by their manifest sha256, through the feature cache (the same items the
    zero-shot filter and trainer read: decoded lazily, one open shard tar per decoding thread)."""
    from .._generated import generated_items
    from ..features import encode_with_cache
    from ..filter.items import cache_items

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
