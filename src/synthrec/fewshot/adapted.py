"""Few-shot strategies with the generator adapted to the shots (beyond the paper; docs/fewshot.md §8):

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
    from .real import Shots
    from .synthetic import SynSet

ADAPTERS_DIR = "adapters"
ADAPTED = ("lora", "lora_RG", "textual_inversion", "textual_inversion_RG")


def adapted_set(run: "FewShotRun", shots: "Shots", strategy: str) -> "SynSet":
    """The synthetic set of an adapter strategy for these shots: adapters trained (or reused), loaded for the
    generation only, then taken out of the shared generator again."""
    from ..adapt import LoraSettings, TextualInversionSettings, adapted, ensure_lora, ensure_tokens

    sets = run.synthetic
    key = f"{strategy}-k{shots.k}-seed{shots.seed}"
    if key in sets._sets:
        return sets._sets[key]
    a = run.fs.adapt
    gen = sets.generator()
    pipe = gen.pipe
    by_class: dict[int, list] = {}
    for y, im in zip(shots.labels, shots.images):
        by_class.setdefault(int(y), []).append(im)
    folder = run.out / ADAPTERS_DIR
    if strategy.startswith("lora"):
        table = sets.class_prompt_table()
        prompts = {r["class_id"]: r["text"] for r in table}
        files = ensure_lora(pipe, by_class, prompts, folder, scope=a.lora_scope, seed=run.cfg.seed,
                            classnames=run.names, progress=run.progress,
                            settings=LoraSettings(rank=a.lora_rank, alpha=a.lora_alpha, steps=a.lora_steps,
                                                  lr=a.lora_lr, batch_size=a.batch_size,
                                                  text_encoder=a.lora_text_encoder))
        names = {p: f"synthrec_{i}" for i, p in enumerate(sorted(set(files.values())))}
        per_prompt = {prompts[c]: names[p] for c, p in files.items()} if len(names) > 1 else None
        loaded = adapted(gen, lora={n: p for p, n in names.items()}, lora_of_prompt=per_prompt)
        info = {"adapters": sorted(str(p.relative_to(run.run_dir)) for p in names), "lora_scope": a.lora_scope}
    else:
        def prompt_with(token: str) -> str:
            return sets.class_prompt_table([token])[0]["text"]

        tokens = ensure_tokens(pipe, by_class, run.names, prompt_with, folder, seed=run.cfg.seed,
                               progress=run.progress,
                               settings=TextualInversionSettings(steps=a.ti_steps, lr=a.ti_lr,
                                                                 batch_size=a.batch_size))
        table = sets.class_prompt_table([tokens[c][0] for c in range(len(run.names))])
        loaded = adapted(gen, tokens=[tokens[c][1] for c in sorted(tokens)])
        info = {"adapters": [str(tokens[c][1].relative_to(run.run_dir)) for c in sorted(tokens)]}
    with loaded as agen:
        if strategy.endswith("_RG"):
            s = sets.real_guidance(shots, kind=strategy, generator=agen, table=table, adapters=agen.fingerprint)
        else:
            gen_cfg = run.cfg.generate.model_copy(update={"images_per_prompt": run.fs.images_per_class})
            out = sets._folder(strategy, gen_cfg, table, None, agen.fingerprint)
            sets._generate(table, gen_cfg, out, None, agen)
            s = sets._load(strategy, out)
            s.info.update(prompts=[r["text"] for r in table])
    s.info.update(info)
    sets._sets[key] = s
    return s


__all__ = ["ADAPTED", "ADAPTERS_DIR", "adapted_set"]
