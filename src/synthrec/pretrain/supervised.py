"""Supervised pre-training of any timm model on a synthetic set (the paper's Tables 8-10).

Augmentation is timm's ``create_transform`` (random resized crop + flip; RandAugment and random erasing with the
DeiT preset), Mixup/CutMix and label smoothing through timm's ``Mixup`` and losses when the recipe asks for them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .models import create_model


@dataclass
class SupervisedTask:
    module: torch.nn.Module
    num_classes: int
    label_smoothing: float = 0.0
    mixup: Any = None

    @classmethod
    def create(cls, model_name: str, num_classes: int, model_kwargs: dict, recipe) -> "SupervisedTask":
        return cls.for_model(create_model(model_name, num_classes, model_kwargs), num_classes, recipe)

    @classmethod
    def for_model(cls, model, num_classes: int, recipe) -> "SupervisedTask":
        mixup = None
        if recipe.mixup > 0 or recipe.cutmix > 0:
            from timm.data import Mixup

            mixup = Mixup(mixup_alpha=recipe.mixup, cutmix_alpha=recipe.cutmix,
                          label_smoothing=recipe.label_smoothing, num_classes=num_classes)
        return cls(model, num_classes, recipe.label_smoothing, mixup)

    def loss(self, module, batch, device):
        images, labels = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
        if self.mixup is not None and len(images) % 2 == 0:  # timm's Mixup pairs the batch with its reverse
            from timm.loss import SoftTargetCrossEntropy

            mixed, soft = self.mixup(images, labels)
            return SoftTargetCrossEntropy()(module(mixed), soft), {}
        logits = module(images)
        loss = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        return loss, {"train_top1": float((logits.argmax(1) == labels).float().mean())}

    def after_step(self) -> None:
        pass

    def checkpoint_state(self):
        return self.module.state_dict(), {}

    def load_state(self, model: dict, extra: dict) -> None:
        self.module.load_state_dict(model)
