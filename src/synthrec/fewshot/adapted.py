"""Few-shot strategies with the generator adapted to the shots (beyond the paper; docs/fewshot.md):

- ``lora``: LoRA on the generator's denoiser trained on the shots with their class prompts (DataDream), one adapter
  for the data set or one per class (``fewshot.adapt.lora_scope``); text-to-image from the class prompts.
- ``textual_inversion``: one learned token per class (DA-Fusion), text-to-image from the class prompt with the token
  in place of the class name.
- ``lora_RG`` / ``textual_inversion_RG``: the same adapted generator doing Real Guidance (img2img from the shots at
  the paper's t*).

Adapters are run artefacts under ``fewshot/adapters/``, keyed by content (see :mod:`synthrec.adapt.adapters`); the
synthetic set's folder name includes the adapters' keys, so a retrained adapter makes a new set.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .run import FewShotRun, Shots, SynSet

ADAPTERS_DIR = "adapters"


def adapted_set(ctx: "FewShotRun", shots: "Shots", strategy: str) -> "SynSet":
    from ..adapt import LoraSettings, TextualInversionSettings, adapted, ensure_lora, ensure_tokens

    key = f"{strategy}-k{shots.k}-seed{shots.seed}"
    if key in ctx._syn:
        return ctx._syn[key]
    a = ctx.fs.adapt
    gen = ctx.generator()
    pipe = gen.pipe
    by_class: dict[int, list] = {}
    for y, im in zip(shots.labels, shots.images):
        by_class.setdefault(int(y), []).append(im)
    folder = ctx.out / ADAPTERS_DIR
    if strategy.startswith("lora"):
        table = ctx.class_prompt_table()
        prompts = {r["class_id"]: r["text"] for r in table}
        files = ensure_lora(pipe, by_class, prompts, folder, scope=a.lora_scope, seed=ctx.cfg.seed,
                            classnames=ctx.names, progress=ctx.progress,
                            settings=LoraSettings(rank=a.lora_rank, alpha=a.lora_alpha, steps=a.lora_steps,
                                                  lr=a.lora_lr, batch_size=a.batch_size,
                                                  text_encoder=a.lora_text_encoder))
        names = {p: f"synthrec_{i}" for i, p in enumerate(sorted(set(files.values())))}
        per_prompt = {prompts[c]: names[p] for c, p in files.items()} if len(names) > 1 else None
        loaded = adapted(gen, lora={n: p for p, n in names.items()}, lora_of_prompt=per_prompt)
        info = {"adapters": sorted(str(p.relative_to(ctx.run_dir)) for p in names), "lora_scope": a.lora_scope}
    else:
        def prompt_with(token: str) -> str:
            return ctx.class_prompt_table([token])[0]["text"]

        tokens = ensure_tokens(pipe, by_class, ctx.names, prompt_with, folder, seed=ctx.cfg.seed, progress=ctx.progress,
                               settings=TextualInversionSettings(steps=a.ti_steps, lr=a.ti_lr,
                                                                 batch_size=a.batch_size))
        table = ctx.class_prompt_table([tokens[c][0] for c in range(len(ctx.names))])
        loaded = adapted(gen, tokens=[tokens[c][1] for c in sorted(tokens)])
        info = {"adapters": [str(tokens[c][1].relative_to(ctx.run_dir)) for c in sorted(tokens)]}
    with loaded as agen:
        if strategy.endswith("_RG"):
            s = ctx.rg_set(shots, kind=strategy, generator=agen, table=table, adapters=agen.fingerprint)
        else:
            s = _text_to_image_set(ctx, strategy, agen, table)
    s.info.update(info)
    ctx._syn[key] = s
    return s


def _text_to_image_set(ctx: "FewShotRun", kind: str, generator, table: list[dict]) -> "SynSet":
    gen_cfg = ctx.cfg.generate.model_copy(update={"images_per_prompt": ctx.fs.images_per_class})
    folder = ctx._syn_folder(kind, gen_cfg, table, None, generator.fingerprint)
    ctx._generate(table, gen_cfg, folder, None, generator)
    s = ctx._load_set(kind, folder)
    s.info.update(prompts=[r["text"] for r in table])
    return s


__all__ = ["ADAPTERS_DIR", "adapted_set"]
