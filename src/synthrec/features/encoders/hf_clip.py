"""Hugging Face CLIP-style encoders: ``hf:<hub id>[@revision]`` or ``hf:<folder saved with save_pretrained>``.

Any transformers model with ``get_image_features``/``get_text_features`` works (CLIP, SigLIP, ...). The image
processor saved with the model does the preprocessing; a folder without one is refused rather than guessed.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from ..._io import stable_hash
from ...errors import ModelLoadError
from ._common import dtype_of, folder_identity, jsonable, looks_like_path, one_line
from .base import ImageTextEncoder, ImageTower

log = logging.getLogger(__name__)
_EXAMPLE = "hf:openai/clip-vit-base-patch32"
_FIX = (f"give a hub id such as {_EXAMPLE} (online, or already in the hub cache) or a folder saved with "
        "model.save_pretrained and processor.save_pretrained")


class HFClipEncoder(ImageTextEncoder):
    def __init__(self, model, image_processor, tokenizer, *, encoder_id: str, identity: dict, device: torch.device,
                 precision: str, text_batch_size: int = 256):
        self.model = model.eval()
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self._dtype = dtype_of(precision)
        self._text_batch_size = text_batch_size
        # SigLIP was trained on max-length padded text; CLIP pools at the EOS token, so dynamic padding is exact.
        self._padding = "max_length" if "siglip" in str(getattr(model.config, "model_type", "")) else True
        text_cfg = getattr(model.config, "text_config", model.config)
        self._max_length = min(int(getattr(tokenizer, "model_max_length", 77) or 77),
                               int(getattr(text_cfg, "max_position_embeddings", 77)))
        self.encoder_id = encoder_id
        self.device = device
        self.precision = precision
        self.preprocess_cfg = {k: v for k, v in image_processor.to_dict().items() if not k.startswith("_")}
        self.logit_scale = float(model.logit_scale.detach().float().exp().item())
        self.embed_dim = int(self.encode_texts(["a"]).shape[1])
        self.fingerprint = stable_hash({"flavour": "hf", **identity, "precision": precision,
                                        "preprocess": jsonable(self.preprocess_cfg)})

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return self.image_processor(images=image, return_tensors="pt")["pixel_values"][0]

    @torch.no_grad()
    def encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.to(self.device, dtype=self._dtype, non_blocking=True)
        return F.normalize(_embeds(self.model.get_image_features(pixel_values=x)).float(), dim=-1).cpu()

    def image_tower(self) -> ImageTower:
        vision, projection = getattr(self.model, "vision_model", None), getattr(self.model, "visual_projection", None)
        layers = getattr(getattr(vision, "encoder", None), "layers", None)
        if vision is None or projection is None or layers is None:  # SigLIP & co. pool differently
            return super().image_tower()
        module = torch.nn.ModuleDict({"vision_model": vision, "visual_projection": projection})

        def forward(m, x):
            # CLIPModel.get_image_features: the vision model's pooled output through the visual projection.
            return m["visual_projection"](m["vision_model"](pixel_values=x).pooler_output)

        return ImageTower(module, forward, (f"vision_model.encoder.layers.{len(layers) - 1}",
                                            "vision_model.post_layernorm", "visual_projection"))

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        out = []
        for i in range(0, len(texts), self._text_batch_size):
            tok = self.tokenizer(list(texts[i:i + self._text_batch_size]), padding=self._padding, truncation=True,
                                 max_length=self._max_length, return_tensors="pt").to(self.device)
            feats = self.model.get_text_features(**{k: v for k, v in tok.items() if k != "token_type_ids"})
            out.append(F.normalize(_embeds(feats).float(), dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros(0, getattr(self, "embed_dim", 0))


def _embeds(out) -> torch.Tensor:
    # transformers v5 returns an output object whose pooled, projected embedding is ``pooler_output``; v4 a tensor.
    return out if torch.is_tensor(out) else out.pooler_output


def load_hf_clip(target: str, *, spec: str, device: torch.device, precision: str) -> HFClipEncoder:
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    folder = Path(os.path.expanduser(target))
    if target and folder.is_dir():
        _check_folder_files(folder, spec)
        source, revision, kwargs = str(folder), None, {"local_files_only": True}
        identity = {"folder": folder_identity(folder)}
    elif not target or looks_like_path(target):
        raise ModelLoadError(f"folder {target!r} in encoder spec {spec!r} does not exist", _FIX)
    else:
        source, _, revision = target.partition("@")
        revision = revision or None
        kwargs = {"revision": revision} if revision else {}
        identity = {"hub_id": source}
    try:
        model = AutoModel.from_pretrained(source, dtype=dtype_of(precision), **kwargs)
        image_processor = AutoImageProcessor.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    except Exception as exc:  # OSError (not found / offline), ValueError (unknown architecture), ...
        raise ModelLoadError(f"cannot load Hugging Face model {source!r} from encoder spec {spec!r} "
                             f"({one_line(exc)})", _FIX) from exc
    if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
        raise ModelLoadError(f"Hugging Face model {source!r} ({type(model).__name__}) is not an image-text model",
                             f"use a CLIP-like model with get_image_features/get_text_features, e.g. {_EXAMPLE}")
    if "hub_id" in identity:
        identity["revision"] = _hub_commit(source, revision)
    model.to(device)
    log.info("encoder %s loaded on %s (%s)", spec, device, precision)
    return HFClipEncoder(model, image_processor, tokenizer, encoder_id=spec, identity=identity, device=device,
                         precision=precision)


def _check_folder_files(folder: Path, spec: str) -> None:
    for name, what in (("config.json", "model config"), ("preprocessor_config.json", "image processor")):
        if not (folder / name).is_file():
            raise ModelLoadError(f"folder {str(folder)!r} in encoder spec {spec!r} has no {name} ({what})",
                                 "save the model and its processor into it with save_pretrained")


def check_hf_clip(target: str, *, spec: str) -> None:
    """What :func:`load_hf_clip` would refuse, without loading weights: a folder lacking its files, a missing path,
    or a hub id that is neither cached (offline) nor on the hub."""
    folder = Path(os.path.expanduser(target))
    if target and folder.is_dir():
        _check_folder_files(folder, spec)
        return
    if not target or looks_like_path(target):
        raise ModelLoadError(f"folder {target!r} in encoder spec {spec!r} does not exist", _FIX)
    from ..._hub import check_hub_model

    source, _, revision = target.partition("@")
    check_hub_model(source, ["config.json"], f"encoder {spec}", revision=revision or None)


def _hub_commit(repo_id: str, revision: str | None) -> str:
    """The commit the hub cache resolved ``revision`` to: a moving branch like ``main`` must not pin the cache."""
    if revision and re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision
    from huggingface_hub import try_to_load_from_cache

    path = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    match = re.search(r"snapshots[/\\]([0-9a-f]{40})[/\\]", str(path)) if isinstance(path, str) else None
    if match:
        return match.group(1)
    raise ModelLoadError(f"cannot tell which revision of {repo_id!r} was loaded",
                         f"pin one in the spec: hf:{repo_id}@<commit sha>")


