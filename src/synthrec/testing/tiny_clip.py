"""Tiny random CLIPs in open_clip and Hugging Face form, saved the way real ones are and loaded back by path.

Tests use them to run the real loading code offline: ``create_encoder(build_tiny_open_clip(folder))``. Weights are
seeded, so two builds with one seed are identical. They carry no knowledge: never use them for results.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .._io import stable_hash
from ..features.encoders.base import ImageTextEncoder

_MEAN = (0.48145466, 0.4578275, 0.40821073)
_STD = (0.26862954, 0.26130258, 0.27577711)


def build_tiny_open_clip(folder: str | Path, *, seed: int = 0, image_size: int = 32, embed_dim: int = 16,
                         patch_size: int = 8) -> str:
    """An open_clip folder (``open_clip_config.json`` + ``open_clip_model.safetensors``); returns its spec."""
    import open_clip
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_cfg = {"embed_dim": embed_dim,
                 "vision_cfg": {"image_size": image_size, "layers": 2, "width": 32, "patch_size": patch_size,
                                "head_width": 16},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}}
    preprocess_cfg = {"mean": list(_MEAN), "std": list(_STD), "interpolation": "bicubic", "resize_mode": "shortest"}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = open_clip.CLIP(**model_cfg)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg,
                                                              "preprocess_cfg": preprocess_cfg}, indent=2))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "open_clip_model.safetensors"))
    return f"open_clip:{folder}"


def tiny_open_clip_config(folder: str | Path) -> Path:
    """The arch JSON of a folder from :func:`build_tiny_open_clip`, for ``open_clip.add_model_config`` (arch/file
    specs); the arch is named after the file stem, ``synthrec-tiny-clip``."""
    folder = Path(folder)
    cfg = json.loads((folder / "open_clip_config.json").read_text())["model_cfg"]
    path = folder.parent / "synthrec-tiny-clip.json"
    path.write_text(json.dumps(cfg))
    return path


def build_tiny_hf_clip(folder: str | Path, *, seed: int = 0, image_size: int = 32, embed_dim: int = 16) -> str:
    """A transformers ``CLIPModel`` with its image processor and the real CLIP tokenizer; returns its spec."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    from .tokenizers import real_clip_tokenizer

    folder = Path(folder)
    tok = real_clip_tokenizer()
    cfg = CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, bos_token_id=49406, eos_token_id=49407,
                         pad_token_id=49407),
        vision_config=dict(image_size=image_size, patch_size=8, hidden_size=32, intermediate_size=37,
                           num_hidden_layers=2, num_attention_heads=4),
        projection_dim=embed_dim)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPModel(cfg).eval()
    processor = CLIPImageProcessor(size={"shortest_edge": image_size},
                                   crop_size={"height": image_size, "width": image_size},
                                   image_mean=list(_MEAN), image_std=list(_STD))
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    tok.save_pretrained(folder)
    return f"hf:{folder}"


class ColourEncoder(ImageTextEncoder):
    """A hand-made image-text encoder whose outputs are known in closed form, for rule and metric tests.

    An image's feature is its mean (R, G, B), L2-normalised; a text's feature is the one-hot of the first colour
    word it contains ("red", "green", "blue"), or uniform. So p(class) = softmax(logit_scale · cos) is computable by
    hand. ``n_encoded`` counts images that reached ``encode_pixels`` (cache tests); ``variant`` changes the
    fingerprint as a different model would.
    """

    _WORDS = ("red", "green", "blue")

    def __init__(self, logit_scale: float = 10.0, variant: str = "a"):
        self.encoder_id = f"test:colour/{variant}"
        self.fingerprint = stable_hash({"colour_encoder": variant, "logit_scale": logit_scale})
        self.logit_scale = float(logit_scale)
        self.embed_dim = 3
        self.device = torch.device("cpu")
        self.n_encoded = 0

    def preprocess(self, image):
        arr = np.asarray(image.convert("RGB").resize((4, 4)), dtype=np.float32) / 255.0
        return torch.from_numpy(arr).permute(2, 0, 1).contiguous()

    def encode_pixels(self, pixels):
        self.n_encoded += len(pixels)
        return torch.nn.functional.normalize(pixels.float().mean(dim=(2, 3)), dim=-1)

    def encode_texts(self, texts):
        out = torch.full((len(texts), 3), 1.0)
        for i, t in enumerate(texts):
            hits = [j for j, w in enumerate(self._WORDS) if w in t.lower()]
            if hits:
                out[i] = torch.nn.functional.one_hot(torch.tensor(hits[0]), 3).float()
        return torch.nn.functional.normalize(out, dim=-1)
