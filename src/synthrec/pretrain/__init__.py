"""The pre-training setting (METHOD.md §4): synthetic pre-training sets, supervised and MoCo v2 pre-training of timm
backbones, streamed from WebDataset shards, with safetensors checkpoints and exact resume.

>>> from synthrec.pretrain import pretrain, PretrainConfig
>>> pretrain(PretrainConfig(data="runs/sets/c100-1x", model="resnet50", preset="aware"), "runs/pt")

Submodules import torch, timm and lightly on use; importing this package only loads the config and presets.
"""
from ..config.schema import ExtraClassesConfig, PretrainConfig, SetConfig
from .presets import PRESETS, Recipe, resolve_recipe


def pretrain(*args, **kwargs):
    from .run import pretrain as _pretrain

    return _pretrain(*args, **kwargs)


__all__ = ["PRESETS", "ExtraClassesConfig", "PretrainConfig", "Recipe", "SetConfig", "pretrain", "resolve_recipe"]
