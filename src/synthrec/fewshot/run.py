"""``run_fewshot``: every (shots k × seed × strategy) of a config's ``fewshot`` section, end to end.

For each k and seed: draw the shots, make or reuse the synthetic set the strategy needs, tune the head from the
zero-shot text head, evaluate it on the real test set. Everything lands below ``<run_dir>/fewshot/``:

    shots/shots-k{k}-seed{s}.json        the chosen real images (and shots/images/*.png for in-memory ones)
    synthetic/<kind>-<hash>/             generated sets, named by a hash of everything that shapes their images, so
                                         one set serves every strategy, k and seed that asks for the same images
    runs/k{k}-seed{s}-{strategy}/        head.safetensors + head.json + result.json (skipped when already done)
    results.json, report.html            every run's top-1 and per-class top-1; the curves

The jobs live in their own modules: ``real`` (pool, shots, test set), ``synthetic`` (making and reusing the sets),
``strategies`` (how each strategy trains: ``none`` = real shots only, "CT w. init"; ``B`` = mix training with the
LE + CF set, or the basic-prompt one (``fewshot.b_prompts``, ``b_filter``); ``RF`` = B after Real Filtering by the
shots; ``RG`` = mix training with Real Guidance images of the shots; ``lora`` / ``textual_inversion`` and their
``*_RG`` forms = mix training with images of the generator adapted to the shots (module ``adapted``); baselines ``phase_syn_real`` /
``phase_real_syn`` use the RG set, as the paper's Table 7 does). This
module checks the config, holds what they share and runs the grid.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from .. import _io
from ..context import RunContext, get_encoder
from ..devices import resolve_device
from ..errors import ConfigError, NoSyntheticDataError
from ..stages import GENERATE_SPEED_ONLY, section_settings, stage_dir, stage_file
from .guidance import rg_steps, strength_table, t_star_for
from .mix import Features
from .real import Shots, draw_shots, load_pool, load_test
from .adapted import ADAPTED
from .strategies import STRATEGIES, train_strategy
from .synthetic import SyntheticSets

log = logging.getLogger("synthrec")

RESULT_FILE = "result.json"


class FewShotRun:
    """What one ``run_fewshot`` call shares between its jobs: the config, the loaded encoder, the label space,
    the output folder and the synthetic sets made so far."""

    def __init__(self, cfg, run_dir: Path, *, encoder=None, generator=None, progress: bool = False,
                 ctx: RunContext | None = None):
        if cfg.fewshot is None:
            raise ConfigError("the config has no fewshot section", "add `fewshot:` (see configs/digits_fewshot.yaml)")
        self.cfg, self.fs = cfg, cfg.fewshot
        self.run_dir = Path(run_dir)
        self.out = stage_dir(self.run_dir, "fewshot")
        self.ctx = ctx if ctx is not None else RunContext(cfg)
        self.labels = self.ctx.labels
        self.names = list(self.labels.names)
        self.templates = self.ctx.head_templates
        self.encoder = encoder if encoder is not None else get_encoder(cfg.train.encoder, cfg.train.device)
        self.cache_dir = self.ctx.feature_cache_dir
        self.device = resolve_device(cfg.train.device, "train.device")
        self.progress = progress
        self.synthetic = SyntheticSets(self, generator)
        self._check_config()

    def _check_config(self) -> None:
        fs = self.fs
        if not fs.strategies and not fs.baselines:
            raise ConfigError("fewshot has no strategies and no baselines", "list at least one, e.g. [none, RG]")
        unknown = [s for s in [*fs.strategies, *fs.baselines] if s not in STRATEGIES]
        if unknown:
            raise ConfigError(f"unknown few-shot strategy {unknown[0]!r}", f"use one of {', '.join(STRATEGIES)}")
        if any(s.endswith("RG") for s in fs.strategies) or fs.baselines:
            for k in fs.shots:
                t_star_for(k, fs.t_star)  # a missing t* fails now, not after an hour of generation

    def zero_shot_head(self):
        from ..train import zero_shot_head

        return zero_shot_head(self.encoder, self.names, self.templates)

    def encode(self, items, desc: str) -> torch.Tensor:
        from ..features import encode_with_cache

        return encode_with_cache(self.encoder, items, self.cache_dir, progress=self.progress, desc=desc)


def run_fewshot(cfg, run_dir: str | Path, *, encoder=None, generator=None, progress: bool = False,
                ctx: RunContext | None = None) -> dict:
    """Run every (k, seed, strategy) of ``cfg.fewshot``; write ``fewshot/results.json`` and ``fewshot/report.html``.

    Returns a summary: the zero-shot top-1 and, per strategy and k, the mean top-1 over seeds. ``encoder`` and
    ``generator`` may be passed ready-made (tests); by default they come from ``cfg.train`` and ``cfg.generate``.
    """
    from ..evaluate import top1_report
    from ..report.fewshot import write_fewshot_report

    t0 = time.perf_counter()
    ctx = FewShotRun(cfg, Path(run_dir), encoder=encoder, generator=generator, progress=progress, ctx=ctx)
    results_file = stage_file(ctx.run_dir, "fewshot", "results")
    fs = ctx.fs
    test, test_name = load_test(ctx)
    zs = ctx.zero_shot_head()
    zs_report = _report(top1_report, zs, test, ctx.names)
    log.info("few-shot: zero-shot top-1 %.2f%% on %d test images", 100 * zs_report["top1"], len(test))
    pool = load_pool(ctx)
    runs = []
    for k in fs.shots:
        for seed in fs.seeds:
            shots = draw_shots(ctx, pool, k, seed)
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
    _io.write_json(results_file, results)
    report = write_fewshot_report(ctx.run_dir)
    summary = summarize(results)
    log.info("few-shot: %d runs in %.0f s; report %s", len(runs), results["seconds"], report)
    return {"runs": len(runs), "zero_shot_top1": zs_report["top1"], "mean_top1": summary,
            "results": str(results_file), "report": str(report)}


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
        res, syn = train_strategy(ctx, strategy, shots, zs)
    except NoSyntheticDataError as exc:
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
        **({"adapt": fs.adapt.model_dump(mode="json")} if strategy in ADAPTED else {}),
        "encoder": ctx.encoder.fingerprint, "templates": ctx.templates, "grad_clip": ctx.cfg.train.grad_clip,
        "generate": section_settings(ctx.cfg.generate, GENERATE_SPEED_ONLY) if strategy != "none" else None,
        "prompts": _prompts_key(ctx, strategy),
    })


def _rg_table(ctx: FewShotRun) -> list[dict] | None:
    if not any(s.endswith("RG") for s in ctx.fs.strategies) and not ctx.fs.baselines:
        return None
    gen = ctx.synthetic.generator()
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


def _prompts_key(ctx: FewShotRun, strategy: str) -> dict | None:
    """The resolved prompts a strategy's images come from (B's for B and RF, the basic ones for RG)."""
    from ..context import prompts_config

    if strategy == "none":
        return None
    which = ctx.fs.b_prompts if strategy in ("B", "RF") else "basic"
    return prompts_config(ctx.cfg, which).model_dump(mode="json", exclude={"le": {"batch_size", "device"}})
