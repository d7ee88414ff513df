"""Language Enhancement (LE, METHOD.md §2.3.2): a seq2seq model turns each class word into varied sentences.

The paper called ``mrm8488/t5-base-finetuned-common_gen`` through ``keytotext``, which split labels on "." and set
no seed, and then ``random.sample``-d 200 of 250 draws, which raised when fewer were unique (METHOD.md §8.1
items 10-11). Here the model is called directly through ``AutoModelForSeq2SeqLM``: sampled with top-k, a torch
seed per class derived from (run seed, class id), drawn in batches until ``per_class`` unique sentences are found
or ``max_draws`` are spent. Like the paper, every sampled sentence is kept, whether or not it names the class
("cars drive on the highway" for "Highway or Road"); ``require_class_word`` is an opt-in check that drops the
others and logs how many it dropped per class. A class that falls short keeps what it has, with a warning; a
class with none falls back to the basic prompt, so no class goes without images.

The generator reads each sentence behind a prefix, as the paper's "a photo of a [SENTENCE]" (paper C.5.1) and its
EuroSAT code's "a centered satellite photo of " + sentence: see :func:`le_prefix`.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from ..devices import resolve_device
from ..errors import ModelLoadError
from ..labels import DEFAULT_TEMPLATE, LabelSpace
from ..seeds import seed_from_text
from .basic import basic_prompt

log = logging.getLogger(__name__)

# "For LE, we generate 200 sentences for each class" (paper C.5.1).
DEFAULT_PER_CLASS = 200
# The paper's generation prompt for LE sentences: "a photo of a [SENTENCE]" (paper C.5.1).
PAPER_PREFIX = "a photo of a"


def derive_seed(seed: int, *parts: object) -> int:
    """A 63-bit seed from the run seed and identifiers; stable across processes and Python versions."""
    return seed_from_text("/".join(str(p) for p in (seed, *parts)), low_bits=True)


def class_word_pattern(words: Sequence[str]) -> re.Pattern:
    """Matches any of ``words`` as whole words, case-insensitive, with any whitespace between the words of a
    multi-word name and an optional plural "s"/"es" ("dogs" counts for "dog"; "category" does not for "cat")."""
    alts = []
    for w in words:
        parts = [re.escape(p) for p in w.split()]
        if parts:
            alts.append(r"\s+".join(parts))
    if not alts:
        raise ValueError("no class word to match")
    # Longest first, so that "sea lion" wins over "sea" inside the alternation.
    alts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?:e?s)?(?!\w)", re.IGNORECASE)


def normalise(sentence: str) -> str:
    return " ".join(sentence.split())


def join_prefix(prefix: str | None, sentence: str) -> str:
    """ "a photo of" + "A dog runs." -> "a photo of a dog runs." (an acronym such as "NASA" keeps its case)."""
    if not prefix:
        return sentence
    if len(sentence) > 1 and sentence[0].isupper() and not sentence[1].isupper():
        sentence = sentence[0].lower() + sentence[1:]
    return f"{prefix.strip()} {sentence}"


@dataclass
class Collected:
    sentences: list[str]
    draws: int
    dropped: int = 0  # unique sentences left out because they lack the class word (only with a pattern)


def collect_sentences(draw: Callable[[int], list[str]], per_class: int, max_draws: int, batch_size: int,
                      pattern: re.Pattern | None = None) -> Collected:
    """Call ``draw(n)`` in batches until ``per_class`` unique sentences or ``max_draws`` draws.

    With a ``pattern`` only sentences it matches count (the opt-in class-word check); the others are counted in
    ``dropped``. Sentences keep the order they were drawn in, so the result depends only on the draws.
    """
    kept: list[str] = []
    seen: set[str] = set()
    draws = dropped = 0
    while len(kept) < per_class and draws < max_draws:
        n = min(batch_size, max_draws - draws)
        batch = draw(n)
        draws += n
        for s in batch:
            s = normalise(s)
            if not s or s in seen:
                continue
            seen.add(s)
            if pattern is not None and not pattern.search(s):
                dropped += 1
                continue
            kept.append(s)
            if len(kept) == per_class:
                break
    return Collected(kept, draws, dropped)


def le_prefix(configured: str | None, domain: str | None) -> str:
    """What goes before each sentence: ``prompts.prefix`` when set ("" for none), else the label space's domain
    words, else the paper's "a photo of a". A dataset's own prefix comes in as ``prompts.prefix`` through the
    run's prompt settings (the dataset registry's ``le_prefix``)."""
    if configured is not None:
        return configured
    return domain if domain else PAPER_PREFIX


def _dtype_for(device: str):
    import torch

    if device.startswith("cuda"):
        # bf16 keeps T5's large activations finite; fp16 only where the card has no bf16.
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def resolve_model_path(model: str) -> str:
    """``glyph`` names the glyph world's shipped LE model; anything else is a hub id or a folder."""
    if model == "glyph":
        from ..glyph.models.le import le_model_path

        return le_model_path()
    return model


class Seq2SeqSampler:
    """Any Hugging Face seq2seq model (hub id or local folder) sampled with top-k."""

    def __init__(self, model: str, device: str = "auto", dtype=None):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.model_id = model
        model = resolve_model_path(model)
        self.device = str(resolve_device(device, "prompts.le.device"))
        self.dtype = dtype if dtype is not None else _dtype_for(self.device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(model, dtype=self.dtype)
        except Exception as exc:  # noqa: BLE001 -- hub, file, config and import errors all mean "cannot load"
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            if re.search(r"sentencepiece|protobuf|tiktoken", str(exc), re.IGNORECASE):
                # Models that ship only spiece.model (the paper's T5 among them) need sentencepiece and protobuf
                # to build the tokenizer; without them transformers falls back to tiktoken and names that instead.
                fix = ("install the tokenizer backends with `pip install sentencepiece protobuf` (`pip install "
                       "tiktoken` for tiktoken files) and run again")
            else:
                fix = ("set prompts.le.model to a Hugging Face seq2seq id such as mrm8488/t5-base-finetuned-common_gen"
                       " or to a folder saved with save_pretrained; offline, the model must already be in the HF cache")
            raise ModelLoadError(f"cannot load the seq2seq model {model!r} for Language Enhancement "
                                 f"({type(exc).__name__}: {reason})", fix) from None
        self.model.to(self.device).eval()
        self._torch = torch

    def sample(self, text: str, n: int, top_k: int, max_new_tokens: int) -> list[str]:
        torch = self._torch
        enc = self.tokenizer([text], return_tensors="pt").to(self.device)
        # Pure top-k sampling as in the paper: beams, nucleus and temperature from a model's generation config
        # would change the distribution.
        kw = dict(do_sample=True, top_k=top_k, top_p=1.0, temperature=1.0, num_beams=1,
                  max_new_tokens=max_new_tokens, num_return_sequences=n)
        with torch.inference_mode():
            try:
                out = self.model.generate(**enc, **kw)
            except RuntimeError as exc:
                if self.dtype == torch.float32 or not re.search(r"inf|nan", str(exc)):
                    raise
                log.warning("LE: %s overflowed in %s; switching to float32", self.model_id, self.dtype)
                self.dtype = torch.float32
                self.model.float()
                out = self.model.generate(**enc, **kw)
        return self.tokenizer.batch_decode(out, skip_special_tokens=True)

    def close(self) -> None:
        dev = self.device
        del self.model
        if dev.startswith("cuda"):
            self._torch.cuda.empty_cache()


def language_enhancement(labels: LabelSpace, *, model: str, per_class: int = DEFAULT_PER_CLASS, seed: int,
                         top_k: int = 50, max_draws: int = 250, max_new_tokens: int = 32, batch_size: int = 50,
                         prefix: str | None = PAPER_PREFIX, input_format: str = "{c}", device: str = "auto",
                         fallback_template: str = DEFAULT_TEMPLATE, require_class_word: bool = False
                         ) -> list[list[tuple[str, str]]]:
    """Sentences per class as ``(text, strategy)`` pairs: ("le") sentences, or one ("basic") fallback prompt.

    ``input_format`` is what the model reads ("{c}": the class name alone, as CommonGen models expect).
    Every unique sentence is kept; with ``require_class_word`` only those that contain the class name or one of its
    synonyms (see :func:`class_word_pattern`), and the number dropped is logged per class.
    The draws are a function of (seed, class id, batch_size, model, device, dtype): the same config on the same
    kind of device gives the same sentences; a GPU and a CPU sample differently.
    """
    import torch
    from tqdm.auto import tqdm

    if per_class > max_draws:
        log.warning("LE: per_class=%d is more than max_draws=%d; every class will fall short", per_class, max_draws)
    sampler = Seq2SeqSampler(model, device)
    log.info("LE: %d classes, up to %d sentences each (%d draws max) from %s on %s (%s)", len(labels), per_class,
             max_draws, model, sampler.device, str(sampler.dtype).replace("torch.", ""))
    devices = [sampler.device] if sampler.device.startswith("cuda") else []
    what = "unique sentences that contain the class word" if require_class_word else "unique sentences"
    out: list[list[tuple[str, str]]] = []
    try:
        for cid, name in enumerate(tqdm(labels.names, desc="LE sentences", unit="class", disable=None)):
            words = [name, *(labels.synonyms[cid] if labels.synonyms else ())]
            pattern = class_word_pattern(words) if require_class_word else None
            text = input_format.replace("{c}", name)
            # Own RNG stream per class: a class's sentences do not depend on the other classes, and the
            # caller's global RNG is left as it was.
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(derive_seed(seed, "le", cid))
                got = collect_sentences(lambda n: sampler.sample(text, n, top_k, max_new_tokens), per_class,
                                        max_draws, batch_size, pattern)
            if require_class_word:
                log.info("LE: class %d %r: the class-word check dropped %d unique sentence(s)", cid, name,
                         got.dropped)
            if not got.sentences:
                fallback = basic_prompt(name, fallback_template, labels.domain)
                log.warning("LE: class %d %r: no %s in %d draws; using the basic prompt %r instead", cid, name,
                            what.replace("unique sentences", "unique sentence"), got.draws, fallback)
                out.append([(fallback, "basic")])
                continue
            if len(got.sentences) < per_class:
                log.warning("LE: class %d %r: only %d of %d %s after %d draws; keeping %d", cid, name,
                            len(got.sentences), per_class, what, got.draws, len(got.sentences))
            out.append([(join_prefix(prefix, s), "le") for s in got.sentences])
    finally:
        sampler.close()
    return out


def le_strategy(labels: LabelSpace, cfg, seed: int, device: str) -> list[list[tuple[str, str]]]:
    le = cfg.le
    return language_enhancement(
        labels, model=le.model, per_class=cfg.per_class or DEFAULT_PER_CLASS, seed=seed, top_k=le.top_k,
        max_draws=le.max_draws, max_new_tokens=le.max_new_tokens, batch_size=le.batch_size,
        prefix=le_prefix(cfg.prefix, labels.domain), input_format=getattr(le, "input_format", None) or "{c}",
        device=le.device if device == "auto" else device, fallback_template=cfg.template,
        require_class_word=getattr(le, "require_class_word", False))
