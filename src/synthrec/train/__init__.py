"""Classifier tuning on frozen features: the zero-shot head, the soft-target loss and the trainer."""
from .head import ClassifierHead
from .loop import EpochRecord, epoch_batches, fit, frozen_copy, make_optimizer
from .loss import soft_cross_entropy, soft_target_loss, soft_target_loss_from_probs, soft_targets
from .schedule import cosine_lr, decay_only_factor
from .trainer import TrainResult, train_head
from .tune import TUNE_CHOICES, pixels_from_loaders, save_tuned, train_tuned, tuned_encoder
from .zero_shot import zero_shot_head, zero_shot_weights

__all__ = ["ClassifierHead", "EpochRecord", "TrainResult", "cosine_lr", "decay_only_factor", "epoch_batches", "fit",
           "frozen_copy", "make_optimizer", "soft_cross_entropy", "soft_target_loss",
           "soft_target_loss_from_probs", "soft_targets", "train_head",
           "zero_shot_head", "zero_shot_weights", "TUNE_CHOICES", "pixels_from_loaders", "save_tuned", "train_tuned", "tuned_encoder"]
