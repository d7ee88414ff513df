"""Tiny data and models for the pre-training tests: 16x16 pattern images (class c = a bright bar at a place of its
own, plus noise), a one-block ResNet and a one-block ViT from timm configs."""
from __future__ import annotations

import numpy as np

TINY_RESNET = ("resnet18", {"layers": [1, 1, 1, 1], "channels": [8, 8, 16, 16], "stem_width": 8})
TINY_VIT = ("vit_tiny_patch16_224", {"img_size": 16, "patch_size": 8, "embed_dim": 16, "depth": 1, "num_heads": 2})


def pattern_images(n: int, classes: int, seed: int):
    from PIL import Image

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        c = i % classes
        arr = rng.integers(0, 60, size=(16, 16)).astype(np.uint8)
        if c % 2 == 0:
            arr[2 + 3 * (c // 2): 4 + 3 * (c // 2), :] = 255
        else:
            arr[:, 2 + 3 * (c // 2): 4 + 3 * (c // 2)] = 255
        images.append(Image.fromarray(arr, mode="L"))
        labels.append(c)
    return images, labels


def tiny_config(data: str, model=TINY_RESNET, method="supervised", **recipe):
    from synthrec.pretrain import PretrainConfig

    base = {"epochs": 2, "batch_size": 8, "queue_size": 16, "proj_hidden_dim": 16, "proj_dim": 8, "hflip": 0.0,
            "lr": 0.05}
    base.update(recipe)
    preset = "mocov2" if method == "mocov2" else "agnostic"
    return PretrainConfig(data=data, method=method, model=model[0], model_kwargs=model[1], image_size=16,
                          preset=preset, recipe=base, num_workers=0, shuffle_buffer=8, device="cpu",
                          precision="fp32")
