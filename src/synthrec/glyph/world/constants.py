"""The glyph world's constants: the names, prompts and conventions the demo and the stages use.

- ``DIGIT_CLASSNAMES``: the real task's classes (scikit-learn ``load_digits``), spelled as numerals, which is how
  the world's captions name characters.
- ``ZERO_SHOT_TEMPLATES``: the mini CLIP's zero-shot head is the mean of these prompts' text embeddings per class
  (the glyph analogue of CLIP's "a photo of a {c}." ensemble). Chosen on the pool split only.
- ``BASIC_PROMPT``: the paper's "basic" generation strategy B, with the domain named as the paper does for
  EuroSAT ("a satellite photo of ..."): here the real digits' domain, low-res scans of handwriting.
- ``LE_INPUT``: what the Language Enhancement seq2seq model reads (the bare class word, like the keyword input of
  the paper's T5 CommonGen); every sentence it writes should contain the class word (the LE stage checks this).
"""
from __future__ import annotations

from ...labels import fill_template


DIGIT_CLASSNAMES: tuple[str, ...] = tuple("0123456789")
ZERO_SHOT_TEMPLATES: tuple[str, ...] = ("a {c}", "the number {c}", "a picture of a {c}")
BASIC_PROMPT = "a low-res scan of a handwritten {c}"
LE_INPUT = "{c}"
# Put before each LE sentence ("a bold slanted handwritten 7"), as the paper puts its domain before EuroSAT's.
LE_PREFIX = "a low-res scan of"
IMAGE_SIZE = 16


def basic_prompt(classname: str) -> str:
    return fill_template(BASIC_PROMPT, classname)


def zero_shot_prompts(classname: str) -> list[str]:
    return [fill_template(t, classname) for t in ZERO_SHOT_TEMPLATES]


def le_input(classname: str) -> str:
    return fill_template(LE_INPUT, classname)
