"""The paper's pre-training and transfer recipes (METHOD.md §4.2) as named presets.

A :class:`Recipe` holds every hyper-parameter a trainer reads. A config names a preset and may override any field
(``pretrain.recipe.epochs=2``); :func:`resolve_recipe` merges the two and validates the result once.

Preset names and where they come from:

* ``aware`` -- downstream-aware supervised pre-training (the paper's CIFAR-100-label synthetic sets, ResNet-50):
  AdamW, weight decay 0.9 *as printed* (METHOD.md flags it as possibly a typo; override ``weight_decay`` to
  change it), batch 512, 90 epochs, cosine; lr 1e-4 from random init, 1e-5 from ImageNet init; random resized
  crop + flip.
* ``agnostic`` -- downstream-agnostic supervised pre-training (ResNet-50): SGD momentum 0.9, lr 0.2 (0.001 from
  init), wd 1e-4, batch 512, 90 epochs, x0.1 every 30 epochs.
* ``deit`` -- the DeiT recipe (DeiT-S; the paper runs the official scripts unchanged): AdamW lr 5e-4 x batch/512,
  wd 0.05, batch 1024, 300 epochs, cosine with 5 warm-up epochs, label smoothing 0.1, Mixup 0.8 / CutMix 1.0,
  RandAugment rand-m9-mstd0.5-inc1, random erasing 0.25.
* ``mocov2`` -- MoCo v2: SGD momentum 0.9, lr 0.03 for batch 256 (0.003 from ImageNet init, as the paper), wd 1e-4,
  200 epochs, cosine, temperature 0.2, queue 65536, key-encoder momentum 0.999, 2-layer MLP head 2048 -> 128.
* ``transfer`` -- the paper's CIFAR-100 fine-tuning: SGD momentum 0.9, lr 0.003, x0.2 at epochs 60/120/160 of 200,
  batch 128, wd 5e-4.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from ..errors import ConfigError


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: float = Field(0.1, gt=0, description="learning rate from random initialisation")
    lr_from_init: Optional[float] = Field(None, gt=0, description="learning rate when starting from given weights")
    lr_reference_batch: Optional[PositiveInt] = Field(
        None, description="scale lr linearly by batch_size / this (DeiT's rule); None: no scaling")
    momentum: float = Field(0.9, ge=0, lt=1)
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = Field(1e-4, ge=0)
    batch_size: PositiveInt = 256
    epochs: PositiveInt = 90
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    milestones: list[PositiveInt] = Field(default_factory=list, description="step: epochs where lr is multiplied")
    gamma: float = Field(0.1, gt=0, le=1, description="step: the factor at each milestone")
    warmup_epochs: float = Field(0.0, ge=0)
    min_lr: float = Field(0.0, ge=0)
    # augmentation (timm's create_transform for supervised training and fine-tuning)
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    hflip: float = Field(0.5, ge=0, le=1)
    auto_augment: Optional[str] = Field(None, description="timm auto-augment policy, e.g. rand-m9-mstd0.5-inc1")
    reprob: float = Field(0.0, ge=0, le=1, description="random erasing probability")
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    mixup: float = Field(0.0, ge=0)
    cutmix: float = Field(0.0, ge=0)
    # MoCo v2
    temperature: float = Field(0.2, gt=0)
    queue_size: int = Field(65536, ge=0)
    key_momentum: float = Field(0.999, ge=0, lt=1)
    proj_hidden_dim: PositiveInt = 2048
    proj_dim: PositiveInt = 128
    moco_min_scale: float = Field(0.2, gt=0, le=1)
    moco_blur: float = Field(0.5, ge=0, le=1)
    moco_color_jitter: float = Field(0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _milestones_in_range(self):
        if self.schedule == "step" and any(m > self.epochs for m in self.milestones):
            raise ValueError(f"a milestone lies beyond the last epoch ({self.epochs})")
        return self

    def base_lr(self, from_init: bool) -> float:
        lr = self.lr_from_init if (from_init and self.lr_from_init is not None) else self.lr
        if self.lr_reference_batch:
            lr = lr * self.batch_size / self.lr_reference_batch
        return lr


PRESETS: dict[str, dict[str, Any]] = {
    "aware": dict(optimizer="adamw", lr=1e-4, lr_from_init=1e-5, weight_decay=0.9, batch_size=512, epochs=90,
                  schedule="cosine"),
    "agnostic": dict(optimizer="sgd", lr=0.2, lr_from_init=0.001, momentum=0.9, weight_decay=1e-4, batch_size=512,
                     epochs=90, schedule="step", milestones=[30, 60], gamma=0.1),
    "deit": dict(optimizer="adamw", lr=5e-4, lr_reference_batch=512, weight_decay=0.05, batch_size=1024,
                 epochs=300, schedule="cosine", warmup_epochs=5, min_lr=1e-5, label_smoothing=0.1, mixup=0.8,
                 cutmix=1.0, auto_augment="rand-m9-mstd0.5-inc1", reprob=0.25),
    "mocov2": dict(optimizer="sgd", lr=0.03, lr_from_init=0.003, momentum=0.9, weight_decay=1e-4, batch_size=256,
                   epochs=200, schedule="cosine", temperature=0.2, queue_size=65536, key_momentum=0.999,
                   proj_hidden_dim=2048, proj_dim=128),
    "transfer": dict(optimizer="sgd", lr=0.003, momentum=0.9, weight_decay=5e-4, batch_size=128, epochs=200,
                     schedule="step", milestones=[60, 120, 160], gamma=0.2),
}


def resolve_recipe(preset: str, overrides: dict[str, Any] | None = None) -> Recipe:
    """The preset's values with ``overrides`` on top; a milestone preset shrunk to fewer epochs keeps its shape.

    When ``epochs`` is overridden and ``milestones`` is not, a step schedule's milestones are rescaled to the same
    fractions of the run (60/120/160 of 200 become 3/6/8 of 10), so a short run is a miniature of the long one.
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown recipe preset {preset!r}", f"choose one of {', '.join(sorted(PRESETS))}")
    values = dict(PRESETS[preset])
    overrides = dict(overrides or {})
    if "epochs" in overrides and "milestones" not in overrides and values.get("milestones"):
        old, new = values["epochs"], int(overrides["epochs"])
        values["milestones"] = sorted({max(1, round(m * new / old)) for m in values["milestones"]})
    values.update(overrides)
    try:
        return Recipe(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "recipe"
        raise ConfigError(f"recipe {preset!r}: {where} is invalid ({err['msg']})", f"fix recipe.{where}") from None


def lr_at(recipe: Recipe, base_lr: float, epoch_progress: float) -> float:
    """The learning rate at a (fractional) epoch position; a pure function, so a resumed run follows the same curve."""
    import math

    t = max(0.0, float(epoch_progress))
    if recipe.warmup_epochs and t < recipe.warmup_epochs:
        return base_lr * (t + 1e-3) / recipe.warmup_epochs
    if recipe.schedule == "constant":
        return base_lr
    if recipe.schedule == "step":
        passed = sum(1 for m in recipe.milestones if t >= m)
        return base_lr * recipe.gamma ** passed
    span = max(1e-9, recipe.epochs - recipe.warmup_epochs)
    frac = min(1.0, (t - recipe.warmup_epochs) / span)
    return recipe.min_lr + (base_lr - recipe.min_lr) * 0.5 * (1 + math.cos(math.pi * frac))
