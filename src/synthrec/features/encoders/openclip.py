"""open_clip encoders: ``open_clip:<arch>/<tag>``, ``open_clip:<arch>/<weights file>``, ``open_clip:<folder>``.

A folder holds ``open_clip_config.json`` (``model_cfg`` + ``preprocess_cfg``) and its weights, the layout open_clip
itself saves and loads with ``local-dir:``. Preprocessing always comes from the model's pretrained or folder config.
"""
from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from ..._io import stable_hash
from ...errors import ModelLoadError
from ._common import file_identity, folder_identity, jsonable, looks_like_path, one_line
from .base import ImageTextEncoder, ImageTower

log = logging.getLogger(__name__)
_EXAMPLE = "open_clip:ViT-B-16/openai"


class OpenClipEncoder(ImageTextEncoder):
    def __init__(self, model, transform, tokenizer, *, encoder_id: str, identity: dict, device: torch.device,
                 precision: str, text_batch_size: int = 256):
        import open_clip

        self.model = model.eval()
        self._transform = transform
        self._tokenizer = tokenizer
        self._input_dtype = open_clip.get_input_dtype(precision) or torch.float32
        self._text_batch_size = text_batch_size
        self.encoder_id = encoder_id
        self.device = device
        self.precision = precision
        self.preprocess_cfg = jsonable(open_clip.get_model_preprocess_cfg(model))
        self.logit_scale = float(model.logit_scale.detach().float().exp().item())
        self.embed_dim = int(self.encode_texts(["a"]).shape[1])
        self.fingerprint = stable_hash({"flavour": "open_clip", **identity, "precision": precision,
                                        "preprocess": self.preprocess_cfg})

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return self._transform(image)

    @torch.no_grad()
    def encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.to(self.device, dtype=self._input_dtype, non_blocking=True)
        return F.normalize(self.model.encode_image(x).float(), dim=-1).cpu()

    def image_tower(self) -> ImageTower:
        visual = self.model.visual
        if hasattr(visual, "layer4") and hasattr(visual, "attnpool"):  # ModifiedResNet (RN50, ...)
            last = ("layer4", "attnpool")
        elif hasattr(visual, "transformer") and hasattr(visual.transformer, "resblocks"):  # VisionTransformer
            n = len(visual.transformer.resblocks)
            last = (f"transformer.resblocks.{n - 1}", "ln_post", *(("proj",) if visual.proj is not None else ()))
        else:
            return super().image_tower()
        return ImageTower(visual, lambda module, x: module(x), last)

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        out = []
        for i in range(0, len(texts), self._text_batch_size):
            tokens = self._tokenizer(list(texts[i:i + self._text_batch_size])).to(self.device)
            out.append(F.normalize(self.model.encode_text(tokens).float(), dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros(0, getattr(self, "embed_dim", 0))


def load_open_clip(target: str, *, spec: str, device: torch.device, precision: str) -> OpenClipEncoder:
    import open_clip

    folder = Path(os.path.expanduser(target))
    if target and folder.is_dir():
        model_name, pretrained, quick_gelu = f"local-dir:{folder}", None, False
        tokenizer_name = model_name
        _check_folder(folder, spec)
        identity = {"folder": folder_identity(folder)}
        weights_file = None
    else:
        arch, weights = _arch_and_weights(target, spec)
        tokenizer_name, model_name = arch, arch
        weights_path = Path(os.path.expanduser(weights))
        if open_clip.is_pretrained_cfg(arch, weights):
            pcfg = open_clip.get_pretrained_cfg(arch, weights)
            # OpenAI's weights were trained with QuickGELU; open_clip's plain arch configs use GELU and only warn on
            # the mismatch, which silently changes every feature. The tag's own flag decides.
            pretrained, quick_gelu, weights_file = weights, bool(pcfg.get("quick_gelu", False)), None
            identity = {"arch": arch, "tag": weights, "source": {k: pcfg.get(k, "") for k in ("url", "hf_hub")}}
        elif weights_path.is_file():
            pretrained, quick_gelu, weights_file = str(weights_path), False, weights_path
            identity = {"arch": arch, "weights": file_identity(weights_path)}
        else:
            raise _unknown_weights(arch, weights, spec)
        identity["model_cfg"] = open_clip.get_model_config(arch)
    try:
        model = open_clip.create_model(model_name, pretrained=pretrained, precision=precision, device=device,
                                       force_quick_gelu=quick_gelu, require_pretrained=True)
        tokenizer = open_clip.get_tokenizer(tokenizer_name)
    except Exception as exc:  # open_clip raises RuntimeError/ValueError/OSError for missing or broken weights
        raise ModelLoadError(f"cannot load open_clip model {spec!r} ({one_line(exc)})",
                             "check the network (a tag's weights are downloaded once) or, offline, point the spec at "
                             "a local weights file (open_clip:<arch>/<file>) or folder") from exc
    if pretrained is not None and weights_file is None:
        # The downloaded file's content, not only the tag, so a re-published checkpoint never shares cache entries.
        identity["weights"] = file_identity(open_clip.download_pretrained(open_clip.get_pretrained_cfg(arch, weights)))
    log.info("encoder %s loaded on %s (%s)", spec, device, precision)
    return OpenClipEncoder(model, _transform_of(model), tokenizer, encoder_id=spec, identity=identity,
                           device=device, precision=precision)


def check_open_clip(target: str, *, spec: str) -> None:
    """What :func:`load_open_clip` would refuse, found without loading weights: an unknown architecture or tag, a
    missing file or folder, or (offline) a tag whose weights are not in the local cache."""
    import open_clip

    folder = Path(os.path.expanduser(target))
    if target and folder.is_dir():
        _check_folder(folder, spec)
        return
    arch, weights = _arch_and_weights(target, spec)
    if Path(os.path.expanduser(weights)).is_file():
        return
    if not open_clip.is_pretrained_cfg(arch, weights):
        raise _unknown_weights(arch, weights, spec)
    from ..._hub import check_hub_model, offline

    hub_id = open_clip.get_pretrained_cfg(arch, weights).get("hf_hub", "").strip("/")
    if hub_id:
        from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

        check_hub_model(hub_id, [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME], f"the weights of {spec}, hub model")
    elif offline():
        raise ModelLoadError(f"encoder {spec!r} downloads its weights from a URL, and offline mode is on",
                             "run once with network access, or point the spec at a local weights file")


def _arch_and_weights(target: str, spec: str) -> tuple[str, str]:
    import open_clip

    arch, _, weights = target.partition("/")
    _check_arch(arch, spec)
    if not weights:
        raise ModelLoadError(f"encoder spec {spec!r} names no weights",
                             f"write open_clip:{arch}/<tag> with a tag from "
                             f"{_fmt(open_clip.list_pretrained_tags_by_model(arch))}, or a weights file path")
    return arch, weights


def _unknown_weights(arch: str, weights: str, spec: str) -> ModelLoadError:
    """Neither a pretrained tag of ``arch`` nor an existing file."""
    import open_clip

    if looks_like_path(weights) or weights.endswith((".safetensors", ".bin", ".pt", ".pth")):
        return ModelLoadError(f"weights file {weights!r} in encoder spec {spec!r} does not exist",
                              "give the path of an existing open_clip state-dict file")
    tags = open_clip.list_pretrained_tags_by_model(arch)
    close = difflib.get_close_matches(weights, tags, n=5, cutoff=0.3) or tags
    return ModelLoadError(f"open_clip architecture {arch!r} has no pretrained tag {weights!r}",
                          f"use one of its tags: {_fmt(close)}, or a path to a weights file")


def _transform_of(model):
    import open_clip
    from open_clip.transform import PreprocessCfg, image_transform_v2

    return image_transform_v2(PreprocessCfg(**open_clip.get_model_preprocess_cfg(model)), is_train=False)


def _check_arch(arch: str, spec: str) -> None:
    import open_clip

    known = open_clip.list_models()
    if arch in known:
        return
    close = difflib.get_close_matches(arch, known, n=5, cutoff=0.5)
    hint = f"close matches: {_fmt(close)}" if close else "open_clip.list_models() lists them all"
    raise ModelLoadError(f"encoder spec {spec!r} names neither an existing folder nor a known open_clip "
                         f"architecture ({arch!r})",
                         f"use a known architecture ({hint}) with a tag, e.g. {_EXAMPLE}, or a folder with "
                         "open_clip_config.json and weights")


def _check_folder(folder: Path, spec: str) -> None:
    if not (folder / "open_clip_config.json").is_file():
        raise ModelLoadError(f"folder {str(folder)!r} in encoder spec {spec!r} has no open_clip_config.json",
                             "save model_cfg and preprocess_cfg in open_clip_config.json next to the weights")
    if not any(any(folder.glob(pat)) for pat in ("*.safetensors", "*.bin", "*.pth")):
        raise ModelLoadError(f"folder {str(folder)!r} in encoder spec {spec!r} has no weights file",
                             "put the model's .safetensors (or .bin/.pth) state dict into the folder")


def _fmt(items) -> str:
    items = list(items)
    return ", ".join(items) if items else "(none)"


__all__ = ["OpenClipEncoder", "check_open_clip", "load_open_clip"]
