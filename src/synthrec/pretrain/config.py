"""Config sections of the pre-training setting: ``pretrain`` (a synthetic set and a trainer) and its set spec.

They validate once at the edge like every other section (``extra="forbid"``); the recipe is a preset name plus
overrides, merged by :func:`synthrec.pretrain.presets.resolve_recipe`.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from ..config.schema import GenerateConfig, LabelsConfig, PromptsConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ExtraClassesConfig(_Section):
    """Further classes drawn at random from a larger list (the paper's IN-2K = IN-1K + 1K of ImageNet-21K)."""

    file: str = Field(..., description="a class list (one per line, or YAML/JSON `classes`) to draw from")
    count: PositiveInt = Field(..., description="how many to draw; names already in the label space are skipped")
    seed: int = Field(0, ge=0, description="the draw's seed, recorded in set.json")


class SetConfig(_Section):
    """A synthetic pre-training set: a label space, a size in images, LE prompts, the sharded generator."""

    labels: LabelsConfig
    extra_classes: Optional[ExtraClassesConfig] = None
    images: PositiveInt = Field(..., description="the set's size in images (rounded up to whole prompts)")
    chunk_images: Optional[PositiveInt] = Field(
        None, description="make the set in chunks of this many images, each its own resumable generator run; "
        "a larger size later reuses the chunks already made (1x, 2x, 4x share one folder)")
    prompts: PromptsConfig = PromptsConfig(strategy="le")
    generate: GenerateConfig
    folder: Optional[str] = Field(None, description="where the set lives (default <run_dir>/pretrain/set); "
                                  "share one folder between runs to generate once")


class PretrainConfig(_Section):
    set: Optional[SetConfig] = Field(None, description="make this synthetic set, then pre-train on it")
    data: Optional[str] = Field(None, description="or pre-train on an existing set folder (set.json + shards); "
                                "neither, in a full run: the run's own generated images")
    method: Literal["supervised", "mocov2"] = "supervised"
    model: str = Field("resnet50", description="any timm.create_model name (paper: resnet50, deit_small_patch16_224)")
    model_kwargs: dict[str, Any] = Field(default_factory=dict, description="passed to timm.create_model")
    image_size: PositiveInt = 224
    preset: Optional[str] = Field(None, description="aware, agnostic, deit or mocov2 (default: agnostic for "
                                  "supervised, mocov2 for MoCo)")
    recipe: dict[str, Any] = Field(default_factory=dict, description="overrides of the preset, e.g. {epochs: 10}")
    init: Optional[str] = Field(None, description="start from these weights: a synthrec checkpoint or a timm "
                                "safetensors state dict (the paper's IN-1K init)")
    num_workers: NonNegativeInt = 4
    shuffle_buffer: NonNegativeInt = Field(5000, description="samples held for shuffling across shards")
    device: str = "auto"
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field("auto", description="auto: fp16 AMP on CUDA")
    checkpoint_every: PositiveInt = Field(1, description="epochs between checkpoints")

    @model_validator(mode="after")
    def _one_source(self):
        if self.set is not None and self.data is not None:
            raise ValueError("give one of pretrain.set (make a synthetic set) and pretrain.data (an existing set "
                             "folder), not both")
        return self

    def preset_name(self) -> str:
        return self.preset or ("mocov2" if self.method == "mocov2" else "agnostic")
