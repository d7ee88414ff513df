"""The zero-shot text classifier (METHOD.md §2.1): the CLIP baseline and the head's initialisation.

    e_{i,p} = h(t_p(c_i)) / ||h(t_p(c_i))||     per-template text embedding, L2-normalised
    w_i     = mean_p e_{i,p};  w_i /= ||w_i||   template ensemble, renormalised
    W       = logit_scale * [w_1; ...; w_k],  b = 0
"""
from __future__ import annotations

import os
from typing import Sequence

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ..features.cache import encode_texts_cached
from ..features.encoders.base import ImageTextEncoder
from ..labels import SLOT, fill_template
from .head import ClassifierHead

def zero_shot_weights(encoder: ImageTextEncoder, classnames: Sequence[str], templates: Sequence[str],
                      cache_dir: str | os.PathLike | None = None) -> torch.Tensor:
    """The (k, d) float32 weight of the zero-shot head: ensembled text embeddings times the encoder's logit scale.

    With ``cache_dir`` (the feature cache) the text embeddings are cached by (encoder fingerprint, prompts)."""
    if not classnames:
        raise ConfigError("no class names were given for the zero-shot head", "pass the label space's class names")
    if not templates:
        raise ConfigError("no templates were given for the zero-shot head", 'pass at least one, e.g. "a photo of a {c}."')
    bad = [t for t in templates if SLOT not in t]
    if bad:
        raise ConfigError(f"template {bad[0]!r} has no {SLOT} slot for the class name", f"write {SLOT} where it goes")
    texts = [fill_template(t, c) for c in classnames for t in templates]
    emb = F.normalize(encode_texts_cached(encoder, texts, cache_dir).float(), dim=-1)
    emb = emb.view(len(classnames), len(templates), -1)
    return F.normalize(emb.mean(dim=1), dim=-1) * float(encoder.logit_scale)


def zero_shot_head(encoder: ImageTextEncoder, classnames: Sequence[str], templates: Sequence[str],
                   cache_dir: str | os.PathLike | None = None) -> ClassifierHead:
    """The zero-shot classifier as a head (bias 0), with the encoder and prompts recorded in its metadata."""
    head = ClassifierHead.from_weights(zero_shot_weights(encoder, classnames, templates, cache_dir))
    head.meta.update({"classnames": list(classnames), "templates": list(templates), "encoder_id": encoder.encoder_id,
                      "encoder_fingerprint": encoder.fingerprint, "kind": "zero_shot"})
    return head
