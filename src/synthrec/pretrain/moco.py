"""MoCo v2 pre-training on a timm backbone, built from lightly's parts (the paper's Table 11).

The query encoder is the timm backbone (``num_classes=0``: pooled features) plus lightly's ``MoCoProjectionHead``
(2-layer MLP); the key encoder is its momentum copy (``update_momentum``); the loss is lightly's ``NTXentLoss``
with a memory bank as the queue; the two views come from lightly's ``MoCoV2Transform``. Checkpoints hold the
backbone under ``model.`` (what transfer loads) and the head, key encoder and queue as extras (what resume needs).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from .models import create_model, model_input


class _Encoder(torch.nn.Module):
    def __init__(self, backbone: torch.nn.Module, head: torch.nn.Module):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x):
        return self.head(self.backbone(x))


@dataclass
class MoCoTask:
    module: _Encoder
    key_encoder: _Encoder
    criterion: torch.nn.Module
    key_momentum: float

    @classmethod
    def create(cls, model_name: str, model_kwargs: dict, recipe) -> "MoCoTask":
        try:
            from lightly.loss import NTXentLoss
            from lightly.models.modules.heads import MoCoProjectionHead
            from lightly.models.utils import deactivate_requires_grad
        except ImportError:
            raise ConfigError("MoCo v2 pre-training needs the lightly package",
                              "pip install 'synthrec[ssl]' (lightly 1.6.0)") from None

        backbone = create_model(model_name, 0, model_kwargs)
        head = MoCoProjectionHead(backbone.num_features, recipe.proj_hidden_dim, recipe.proj_dim)
        query = _Encoder(backbone, head)
        key = copy.deepcopy(query)
        deactivate_requires_grad(key)
        bank = (recipe.queue_size, recipe.proj_dim) if recipe.queue_size > 0 else 0
        criterion = NTXentLoss(temperature=recipe.temperature, memory_bank_size=bank)
        return cls(query, key, criterion, recipe.key_momentum)

    def extra_modules(self):
        return [self.key_encoder, self.criterion]

    def loss(self, module, batch, device):
        from lightly.models.utils import update_momentum

        view_q, view_k = (v.to(device, non_blocking=True) for v in batch[0])
        update_momentum(self.module, self.key_encoder, self.key_momentum)
        q = module(view_q)
        with torch.no_grad():
            k = self.key_encoder(view_k)
        return self.criterion(q, k.detach()), {}

    def after_step(self) -> None:
        pass

    def checkpoint_state(self):
        return self.module.backbone.state_dict(), {"head": self.module.head.state_dict(),
                                                   "key": self.key_encoder.state_dict(),
                                                   "loss": _queue_state(self.criterion)}

    def load_state(self, model: dict, extra: dict) -> None:
        self.module.backbone.load_state_dict(model)
        self.module.head.load_state_dict(extra["head"])
        self.key_encoder.load_state_dict(extra["key"])
        _load_queue(self.criterion, extra["loss"])


def _queue_state(criterion: torch.nn.Module) -> dict:
    """lightly keeps the queue in non-persistent buffers (absent from state_dict); resume needs them."""
    return dict(criterion.named_buffers())


def _load_queue(criterion: torch.nn.Module, state: dict) -> None:
    for name, value in state.items():
        owner, attr = name.rsplit(".", 1) if "." in name else ("", name)
        setattr(criterion.get_submodule(owner), attr, value.clone())


def moco_transform(backbone: torch.nn.Module, image_size: int, recipe):
    """lightly's MoCo v2 views (crop from ``moco_min_scale``, colour jitter, grey, blur, flip), timm's mean/std."""
    from lightly.transforms.moco_transform import MoCoV2Transform

    mean, std = model_input(backbone)
    return MoCoV2Transform(input_size=image_size, min_scale=recipe.moco_min_scale, gaussian_blur=recipe.moco_blur,
                           cj_prob=recipe.moco_color_jitter, hf_prob=recipe.hflip,
                           normalize={"mean": list(mean), "std": list(std)})
