"""Language Enhancement inside the glyph world: a tiny byte-level T5 that turns a class word ("7") into a caption
("a low-res scan of a bold handwritten 7"), loaded through the same Hugging Face seq2seq path as the paper's T5:

    tok = AutoTokenizer.from_pretrained(le_model_path())
    model = AutoModelForSeq2SeqLM.from_pretrained(le_model_path())
    model.generate(**tok(["7"], return_tensors="pt"), do_sample=True, top_k=50, max_new_tokens=64)

It learned from the generator's clean captions, so its sentences are the kind of prompt the generator knows.
"""
from __future__ import annotations

import torch

from ..world.constants import le_input
from .weights import LE_NAME, weights_dir


def le_model_path() -> str:
    """Folder of the shipped LE model (``AutoModelForSeq2SeqLM`` + ``AutoTokenizer`` load it offline)."""
    return str(weights_dir(LE_NAME))


def new_le_model(d_model: int = 128, layers: int = 2):
    from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

    tok = ByT5Tokenizer()
    cfg = T5Config(vocab_size=len(tok), d_model=d_model, d_ff=2 * d_model, d_kv=d_model // 4, num_layers=layers,
                   num_decoder_layers=layers, num_heads=4, decoder_start_token_id=tok.pad_token_id,
                   pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=True)
    return tok, T5ForConditionalGeneration(cfg)


@torch.no_grad()
def sample_le(tok, model, word: str, n: int = 10, seed: int = 0) -> list[str]:
    torch.manual_seed(seed)
    enc = tok([le_input(word)], return_tensors="pt")
    out = model.generate(**enc, do_sample=True, top_k=50, max_new_tokens=64, num_return_sequences=n)
    return tok.batch_decode(out, skip_special_tokens=True)
