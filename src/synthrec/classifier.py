"""A trained run as a classifier: ``load_classifier(RUN_DIR).predict(images)`` gives class names.

The head and the frozen encoder travel together: the head's metadata names the encoder spec and its fingerprint
(a hash of its weights and preprocessing), and a head is refused with any encoder whose fingerprint differs, since
its weights only mean something on the features they were trained on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from PIL import Image

from .errors import DataError, ModelLoadError, RunFolderError

ImageInput = Union[Image.Image, str, os.PathLike]


@dataclass
class Classifier:
    """``head`` on ``encoder``'s features; ``classnames`` in class-id order."""

    encoder: object
    head: object
    classnames: list[str]
    batch_size: int = 64

    def predict_proba(self, images: Sequence[ImageInput] | ImageInput) -> np.ndarray:
        """Class probabilities, shape (n images, n classes), columns in :attr:`classnames` order."""
        import torch

        pil = [_open(im) for im in _as_list(images)]
        features = self.encoder.encode_images(pil, batch_size=self.batch_size)
        with torch.no_grad():
            logits = self.head(features.float())
        return torch.softmax(logits, dim=-1).numpy()

    def predict(self, images: Sequence[ImageInput] | ImageInput) -> list[str]:
        """The most likely class name of each image."""
        return [self.classnames[i] for i in self.predict_proba(images).argmax(axis=1)]

    def top_k(self, images: Sequence[ImageInput] | ImageInput, k: int = 5) -> list[list[tuple[str, float]]]:
        """The ``k`` most likely (class name, probability) pairs of each image, most likely first."""
        probs = self.predict_proba(images)
        k = max(1, min(int(k), probs.shape[1]))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[(self.classnames[j], float(p[j])) for j in row] for p, row in zip(probs, order)]


def load_classifier(path: str | os.PathLike, *, encoder=None, device: str = "auto",
                    precision: str = "auto") -> Classifier:
    """The classifier of a finished run folder (or of a ``train`` folder or a ``head.safetensors`` file).

    ``encoder``: an encoder spec or object to use instead of the one the head names; it must have the same
    fingerprint (the same weights and preprocessing), else :class:`~synthrec.errors.ModelLoadError`.
    """
    from .features.encoders import ImageTextEncoder, create_encoder
    from .train import ClassifierHead

    head_path = _head_path(Path(path))
    head = ClassifierHead.load(head_path)
    meta = head.meta
    names, fingerprint = meta.get("classnames"), meta.get("encoder_fingerprint")
    spec = meta.get("encoder_spec") or _spec_from_run_config(head_path) or meta.get("encoder_id")
    if not names or len(names) != head.num_classes or not spec or not fingerprint:
        raise DataError(f"the head in {str(path)!r} does not record its class names and encoder",
                        "train it again with this synthrec version")
    if encoder is None:
        encoder = create_encoder(spec, device=device, precision=precision)
    elif not isinstance(encoder, ImageTextEncoder):
        encoder = create_encoder(str(encoder), device=device, precision=precision)
    if encoder.fingerprint != fingerprint:
        raise ModelLoadError(
            f"the head was trained on features of {spec} (fingerprint {fingerprint[:12]}) but the encoder "
            f"{encoder.encoder_id} has fingerprint {encoder.fingerprint[:12]}",
            f"use the encoder the head was trained with ({spec}), or train a head on this encoder")
    if encoder.embed_dim != head.in_features:
        raise ModelLoadError(f"the encoder gives {encoder.embed_dim}-d features but the head takes "
                             f"{head.in_features}-d", f"use the encoder the head was trained with ({spec})")
    return Classifier(encoder=encoder, head=head.eval(), classnames=list(names))


def _spec_from_run_config(head_path: Path) -> str | None:
    """``train.encoder`` of the run a head came from: heads saved before the spec was in their metadata record only
    the encoder's own id, which is not always a spec ``create_encoder`` takes."""
    import yaml

    folder = head_path if head_path.is_dir() else head_path.parent
    config = folder.parent / "config.yaml"
    try:
        return ((yaml.safe_load(config.read_text()) or {}).get("train") or {}).get("encoder")
    except (OSError, yaml.YAMLError, AttributeError):
        return None


def _head_path(path: Path) -> Path:
    if path.is_file() or (path / "head.safetensors").is_file():
        return path
    from .stages import stage_dir

    if (stage_dir(path, "train") / "head.safetensors").is_file():
        return stage_dir(path, "train")
    if (path / "config.yaml").is_file():
        raise RunFolderError(f"run folder {str(path)!r} has no trained head yet",
                             "run `synthrec train CONFIG` (or `synthrec run CONFIG`) first")
    raise RunFolderError(f"{str(path)!r} is neither a run folder nor a saved head",
                         "pass the run_dir of a config you ran, its train/ folder, or a head.safetensors file")


def _as_list(images) -> list:
    if isinstance(images, (Image.Image, str, os.PathLike)):
        return [images]
    return list(images)


def _open(image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    path = Path(image)
    if not path.is_file():
        raise DataError(f"image {str(path)!r} does not exist", "check the path")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except Exception as exc:  # PIL raises many types for a bad file
        raise DataError(f"image {str(path)!r} cannot be decoded ({type(exc).__name__})",
                        "pass a PNG, JPEG or WebP image") from None
