"""The built-in stages' runners: ``run_<stage>(ctx, folder) -> dict`` (extra fields for the stage's marker).

Each one reads its upstream stages' files, calls its package's plain Python API and writes into ``folder``.
``synthrec.stages.registry`` names them; ``synthrec.api.run`` calls them in order. Nothing else imports this module.
"""
from __future__ import annotations

from pathlib import Path

from . import _io
from .context import RunContext
from .errors import DataError
from .stages import stage_dir, stage_file


def run_labels(ctx: RunContext, folder: Path) -> dict:
    ctx.labels.save(stage_file(ctx.run_dir, "labels", "labels"))
    return {"classes": len(ctx.labels)}


def run_prompts(ctx: RunContext, folder: Path) -> dict:
    from .prompts import build_prompts, write_prompts

    table = build_prompts(ctx.labels, ctx.prompts, seed=ctx.cfg.seed, device=ctx.cfg.prompts.le.device)
    write_prompts(stage_file(ctx.run_dir, "prompts", "prompts"), table)
    return {"prompts": table.num_rows}


def run_generate(ctx: RunContext, folder: Path) -> dict:
    from .generate import generate
    from .prompts import read_prompts

    prompts = read_prompts(stage_file(ctx.run_dir, "prompts", "prompts"))
    result = generate(prompts, ctx.cfg.generate, folder, run_seed=ctx.cfg.seed, labels=ctx.labels)
    return {"images": getattr(result, "num_images", None)}


def run_filter(ctx: RunContext, folder: Path) -> dict:
    from .filter import run_filter as filter_images
    from .generate import generated_items

    items = generated_items(stage_dir(ctx.run_dir, "generate"))
    if not items:
        raise DataError("the generate stage produced no images", "check generate.images_per_prompt and the prompts")
    gen = ctx.cfg.generate
    if gen.executor == "ray" or (gen.num_workers or 1) > 1:
        # Millions of images: encode them where they were made, into the feature cache the filter reads next.
        from .generate.encode_features import fill_feature_cache

        fill_feature_cache(stage_dir(ctx.run_dir, "generate"), ctx.filter_encoder_spec, ctx.feature_cache_dir,
                         executor=gen.executor, num_workers=gen.num_workers, device=ctx.filter_device,
                         precision=ctx.cfg.filter.precision, batch_size=ctx.cfg.filter.batch_size)
    result = filter_images(items, ctx.labels.names, ctx.cfg.filter, folder, seed=ctx.cfg.seed,
                           encoder=ctx.filter_encoder(), cache_dir=ctx.feature_cache_dir,
                           templates=[ctx.filter_template])
    return {"kept": len(result.kept), "images": len(items)}


def run_train(ctx: RunContext, folder: Path) -> dict:
    import pyarrow.compute as pc

    from .features import encode_with_cache
    from .features.items import cache_items
    from .generate import generated_items, read_manifest
    from .train import train_head, zero_shot_weights

    cfg = ctx.cfg
    selection = _io.read_parquet(stage_file(ctx.run_dir, "filter", "selection"))
    if selection.num_rows == 0:
        raise DataError("the filter kept no images, so there is nothing to train on",
                        "lower filter.threshold, set filter.enabled: false, or generate more images")
    gen_dir = stage_dir(ctx.run_dir, "generate")
    table = read_manifest(gen_dir)
    manifest = table.filter(pc.is_in(table.column("image_id"), value_set=selection.column("image_id")))
    items = generated_items(gen_dir, manifest)
    encoder = ctx.train_encoder()
    templates = ctx.head_templates
    init = zero_shot_weights(encoder, ctx.labels.names, templates, ctx.feature_cache_dir)
    meta = {"classnames": list(ctx.labels.names), "templates": templates, "encoder_spec": cfg.train.encoder,
            "encoder_id": encoder.encoder_id, "encoder_fingerprint": encoder.fingerprint}
    class_ids = [it.class_id for it in items]
    if cfg.train.tune != "head":
        from .train import pixels_from_loaders, save_tuned, train_tuned

        # The head reads the tuned encoder's features, whose fingerprint is the saved tower's: keep the base's apart.
        meta["base_encoder_fingerprint"] = meta.pop("encoder_fingerprint")
        result = train_tuned(encoder, pixels_from_loaders(encoder, [it.load for it in items]), class_ids, init,
                             cfg.train, seed=cfg.seed, head_meta={**meta, "tune": cfg.train.tune})
        save_tuned(result, folder)
        return {"images": len(items)}
    features = encode_with_cache(encoder, cache_items(items), ctx.feature_cache_dir,
                                 batch_size=cfg.train.feature_batch_size, desc="train: encoding images")
    result = train_head(features, class_ids, init, cfg.train, seed=cfg.seed, head_meta=meta)
    result.save(folder)
    return {"images": len(items)}


def run_evaluate(ctx: RunContext, folder: Path) -> dict:
    from .evaluate import evaluate_heads
    from .train import ClassifierHead, zero_shot_head

    from .train import tuned_encoder

    dataset = ctx.test_set()
    encoder = ctx.train_encoder()
    train_dir = stage_dir(ctx.run_dir, "train")
    baseline = {"baseline": zero_shot_head(encoder, ctx.labels.names, ctx.head_templates, ctx.feature_cache_dir)}
    tuned = {"tuned": ClassifierHead.load(train_dir)}
    tuned_enc = tuned_encoder(encoder, train_dir)  # the encoder itself unless train.tune went beyond the head
    if tuned_enc is encoder:
        metrics = evaluate_heads(encoder, {**baseline, **tuned}, dataset, ctx.labels.names, ctx.feature_cache_dir,
                                 cfg=ctx.cfg.evaluate)
    else:
        metrics = evaluate_heads(encoder, baseline, dataset, ctx.labels.names, ctx.feature_cache_dir,
                                 cfg=ctx.cfg.evaluate)
        metrics["heads"].update(evaluate_heads(tuned_enc, tuned, dataset, ctx.labels.names, ctx.feature_cache_dir,
                                               cfg=ctx.cfg.evaluate)["heads"])
    metrics["test_set"] = ctx.test_set_name(dataset)
    _io.write_json(stage_file(ctx.run_dir, "evaluate", "metrics"), metrics)
    return {name: h["top1"] for name, h in metrics["heads"].items()}


def run_fewshot(ctx: RunContext, folder: Path) -> dict:
    from .fewshot import run_fewshot as fewshot

    return fewshot(ctx.cfg, ctx.run_dir, ctx=ctx) or {}


def run_report(ctx: RunContext, folder: Path) -> Path:
    from .report import write_report

    return write_report(ctx.run_dir)
