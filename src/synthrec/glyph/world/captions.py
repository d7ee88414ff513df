"""Two kinds of captions, as in reality: the generator learns from clean captions (render.caption_for), the CLIP from
noisy alt-text, which often does not name the character, swaps numerals and words, and gets the style wrong.

``AltText`` is the world-design knob of DESIGN.md §4: how often the target domain (low-res scans of handwriting)
is named at all in the CLIP's data. The vocabulary is small on purpose, so that the frozen text encoder only has to
embed a few thousand distinct captions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .render import NUMBER_WORDS

_NO_CHAR = ("a picture", "an image", "scan", "a photo of a page", "font sample", "close-up of text", "untitled",
            "img", "a sign", "a label", "part of a form", "a blurry picture", "a black and white picture",
            "a drawing", "a sticker", "a stamp", "a logo")
_STYLE = ("bold", "thin", "italic", "handwritten", "printed", "cursive", "typewritten", "blurry", "small",
          "slanted", "rotated", "wobbly")
_TEMPLATES = ("{c}", "a {c}", "the number {c}", "a picture of a {c}", "a {s} {c}", "{s} {c}", "{c}, {s}",
              "the {s} number {c}", "a photo of the number {c}")


@dataclass(frozen=True)
class AltText:
    p_drop: float = 0.4           # caption does not name the character
    p_word: float = 0.25          # "seven" instead of "7"
    p_wrong_style: float = 0.15   # a random style word instead of the true one
    p_domain_named: float = 1.0   # for low-res scans of handwriting: chance the caption names the character
    domain_words: bool = True     # whether domain captions may say "scan"/"handwritten" at all


def _style_words(meta: dict) -> list[str]:
    words = [t for t in meta["tags"] if t in _STYLE]
    if meta["source"] == "pen" or meta.get("font_kind") == "handwriting":
        words.append("handwritten")
    elif meta.get("font_kind") == "script":
        words.append("cursive")
    else:
        words.append("printed")
    if meta.get("font_bold"):
        words.append("bold")
    if meta.get("font_italic"):
        words.append("italic")
    return words


def alt_text(meta: dict, rng: np.random.Generator, cfg: AltText = AltText()) -> str:
    """A noisy web-like caption for one rendered image."""
    domain = meta["scan"] and meta["source"] == "pen"
    u = rng.random(5)
    drop = u[0] < (1 - cfg.p_domain_named if domain else cfg.p_drop)
    words = _style_words(meta)
    if domain and not cfg.domain_words:
        words = [w for w in words if w != "handwritten"] or ["printed"]
    style = words[int(rng.integers(len(words)))]
    if u[1] < cfg.p_wrong_style:
        style = _STYLE[int(rng.integers(len(_STYLE)))]
    if drop:
        base = _NO_CHAR[int(rng.integers(len(_NO_CHAR)))]
        if meta["scan"] and cfg.domain_words and u[2] < 0.5:
            return f"{base}, low-res scan"
        return base
    ch = meta["char"]
    if ch.isdigit() and u[3] < cfg.p_word:
        ch = NUMBER_WORDS[int(ch)]
    text = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))].format(c=ch, s=style)
    if not meta["char"].isdigit():
        text = text.replace("number", "letter")
    if meta["scan"] and cfg.domain_words and u[4] < 0.5:
        text = f"low-res scan of {text}"
    return text
