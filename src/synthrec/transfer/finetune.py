"""Fine-tuning a timm backbone on a real classification dataset; one (init, fraction, seed) at a time.

The paper's CIFAR-100 protocol is the ``transfer`` preset (SGD lr 0.003, x0.2 at 60/120/160 of 200 epochs, batch
128, wd 5e-4); the same loop serves scratch, synthetic-pretrained and real-pretrained inits, so the only difference
between the rows of a transfer table is the starting weights.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Sequence

import torch

from ..pretrain.data import epoch_seed
from ..pretrain.loop import Dist, autocast_for, build_optimizer, optimizer_step, resolve_device, seed_everything
from ..pretrain.models import create_model, eval_transform, load_weights_into, train_transform
from ..pretrain.presets import Recipe, lr_at
from ..pretrain.supervised import SupervisedTask

log = logging.getLogger(__name__)


class _Transformed(torch.utils.data.Dataset):
    def __init__(self, dataset, indices: Sequence[int], transform):
        self.dataset, self.indices, self.transform = dataset, list(indices), transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        image, label = self.dataset[self.indices[i]]
        return self.transform(image.convert("RGB")), label


def stratified_subset(labels: Sequence[int], fraction: float, seed: int) -> list[int]:
    """``fraction`` of each class (at least one image per class), drawn with ``seed``; sorted indices."""
    import numpy as np

    if fraction >= 1:
        return list(range(len(labels)))
    rng = np.random.default_rng([seed, 1601])
    labels = np.asarray(labels)
    picked: list[int] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = max(1, round(len(idx) * fraction))
        picked += rng.choice(idx, size=k, replace=False).tolist()
    return sorted(picked)


def build_model(model_name: str, num_classes: int, model_kwargs: dict, init: str | None):
    model = create_model(model_name, num_classes, model_kwargs)
    if init is not None:
        load_weights_into(model, init, model_name=model_name)
    return model


def finetune(model, train_set, test_set, recipe: Recipe, image_size: int, *, seed: int, min_steps: int = 0,
             num_workers: int = 0, device: str = "auto", precision: str = "auto",
             fraction: float = 1.0) -> dict[str, Any]:
    """Train ``model`` on ``fraction`` of ``train_set`` and return top-1 on ``test_set`` plus the loss curve."""
    t0 = time.perf_counter()
    dev = resolve_device(device, Dist())
    model.to(dev)
    indices = stratified_subset(train_set.labels, fraction, seed)
    train_data = _Transformed(train_set, indices, train_transform(model, image_size, recipe))
    steps_per_epoch = max(1, math.ceil(len(indices) / recipe.batch_size))
    epochs = max(recipe.epochs, math.ceil(min_steps / steps_per_epoch))
    # A longer run for a small fraction keeps the recipe's shape: milestones scale with the epochs.
    scale = epochs / recipe.epochs
    shaped = recipe.model_copy(update={"epochs": epochs,
                                       "milestones": sorted({max(1, round(m * scale)) for m in recipe.milestones}),
                                       "warmup_epochs": recipe.warmup_epochs * scale})
    optimizer = build_optimizer(model.parameters(), shaped, shaped.lr)
    task = SupervisedTask.for_model(model, len(train_set.classnames), shaped)  # label smoothing, Mixup/CutMix
    autocast, scaler = autocast_for(dev, precision)
    history = []
    for epoch in range(epochs):
        seed_everything(epoch_seed(seed, epoch, 0, 55))
        gen = torch.Generator().manual_seed(epoch_seed(seed, epoch, 0, 56) % (2**63))
        loader = torch.utils.data.DataLoader(train_data, batch_size=shaped.batch_size, shuffle=True, generator=gen,
                                             num_workers=num_workers, drop_last=len(indices) > shaped.batch_size)
        model.train()
        total, seen = 0.0, 0
        for i, (x, y) in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(shaped, shaped.lr, epoch + i / steps_per_epoch)
            with autocast():
                loss, _ = task.loss(model, (x, y), dev)
            optimizer_step(loss, optimizer, scaler)
            total += float(loss.detach()) * len(y)
            seen += len(y)
        history.append({"epoch": epoch + 1, "loss": total / max(1, seen)})
    top1 = evaluate(model, test_set, image_size, dev, num_workers)
    return {"top1": top1, "train_images": len(indices), "epochs": epochs, "history": history,
            "seconds": round(time.perf_counter() - t0, 2)}


@torch.no_grad()
def evaluate(model, test_set, image_size: int, device, num_workers: int = 0) -> float:
    data = _Transformed(test_set, range(len(test_set)), eval_transform(model, image_size))
    loader = torch.utils.data.DataLoader(data, batch_size=256, num_workers=num_workers)
    model.eval()
    correct = 0
    for x, y in loader:
        correct += int((model(x.to(device)).argmax(1).cpu() == y).sum())
    return correct / max(1, len(test_set))
