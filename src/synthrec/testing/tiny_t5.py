"""A tiny T5 that turns a word into a sentence containing it: Language Enhancement offline, in a few seconds.

The hub is out of reach in tests and SentencePiece vocabularies are not shipped with any package, so the model
uses ``ByT5Tokenizer`` (byte-level, needs no vocab file). It is trained briefly on word -> sentence pairs, so that
sampled sentences mostly contain the word but still vary: enough to exercise sampling, de-duplication and the
class-word filter of :mod:`synthrec.prompts.language_enhancement` on a real ``AutoModelForSeq2SeqLM``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

# Several sentences per word: the model learns a distribution rather than one string, so sampling yields
# distinct sentences (and some exact repeats, which de-duplication must drop).
DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (
    ("dog", "a dog runs on the grass"),
    ("dog", "a small dog sleeps on a sofa"),
    ("dog", "the dog plays with a red ball"),
    ("dog", "a wet dog on the beach"),
    ("cat", "a cat sits on a window"),
    ("cat", "the cat sleeps in the sun"),
    ("cat", "a black cat on a wall"),
    ("cat", "a cat drinks some milk"),
    ("tench", "a tench swims in a lake"),
    ("tench", "a man holds a big tench"),
    ("tench", "a green tench in a net"),
    ("tench", "the tench eats a worm"),
)


def build_tiny_t5(out_dir: str | Path, pairs: Sequence[tuple[str, str]] | None = None, steps: int = 200,
                  seed: int = 0) -> str:
    """Train a ~60k-parameter T5 on ``pairs`` for ``steps`` full-batch AdamW steps; save model and tokenizer.

    ``steps=0`` saves the random initialisation: a model whose samples are byte noise (useful to test what
    happens when no sentence contains the class word). Returns ``out_dir`` as a string, ready for
    ``AutoModelForSeq2SeqLM.from_pretrained``.
    """
    import torch
    from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

    pairs = list(DEFAULT_PAIRS if pairs is None else pairs)
    if not pairs and steps:
        raise ValueError("give at least one (word, sentence) pair to train on, or steps=0")
    tok = ByT5Tokenizer()
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(T5Config(
        vocab_size=len(tok), d_model=32, d_ff=64, d_kv=8, num_layers=2, num_decoder_layers=2, num_heads=4,
        decoder_start_token_id=tok.pad_token_id, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id))
    if steps:
        enc = tok([w for w, _ in pairs], return_tensors="pt", padding=True)
        labels = tok([s for _, s in pairs], return_tensors="pt", padding=True).input_ids
        labels[labels == tok.pad_token_id] = -100  # padding must not be learned as output
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        model.train()
        # The matrices are tiny: one thread is faster than several and does not fight parallel test workers.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for _ in range(steps):
                loss = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, labels=labels).loss
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            torch.set_num_threads(threads)
    model.eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return str(out_dir)
