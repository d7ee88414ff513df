"""The zero-shot tuning loss (METHOD.md §2.4): λ·soft-target CE + (1−λ)·CE, the teacher tempered, the student not.

    q      = softmax(z_T / T)                                  frozen zero-shot head's logits, tempered
    L_SCE  = mean_batch( Σ_c −q_c · log_softmax(z_S)_c )       student logits untempered (the authors' code)
    L      = λ·L_SCE + (1−λ)·CE(z_S, y)                         λ = 0.5, T = 2 in the paper
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_targets(teacher_logits: torch.Tensor, temperature: float = 2.0) -> torch.Tensor:
    """q = softmax(z_T / T), detached: the teacher is frozen."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return torch.softmax(teacher_logits.detach().float() / temperature, dim=-1)


def soft_cross_entropy(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                       temperature: float = 2.0) -> torch.Tensor:
    """Batch mean of Σ_c −softmax(z_T/T)_c · log_softmax(z_S)_c; no gradient reaches the teacher."""
    return _soft_ce(student_logits, soft_targets(teacher_logits, temperature))


def _soft_ce(student_logits: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return -(q * F.log_softmax(student_logits.float(), dim=-1)).sum(dim=-1).mean()


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor | None, targets: torch.Tensor,
                     sce_weight: float = 0.5, temperature: float = 2.0) -> torch.Tensor:
    """λ·SCE + (1−λ)·CE with λ = ``sce_weight``; λ = 0 is plain CE (``teacher_logits`` may then be None)."""
    if sce_weight > 0.0 and teacher_logits is None:
        raise ValueError("sce_weight > 0 needs teacher logits")
    q = soft_targets(teacher_logits, temperature) if sce_weight > 0.0 else None
    return soft_target_loss_from_probs(student_logits, q, targets, sce_weight)


def soft_target_loss_from_probs(student_logits: torch.Tensor, q: torch.Tensor | None, targets: torch.Tensor,
                                sce_weight: float = 0.5) -> torch.Tensor:
    """The same loss from precomputed soft targets ``q`` (the teacher and the features are frozen, so a trainer
    may compute q once per image instead of once per step)."""
    if not 0.0 <= sce_weight <= 1.0:
        raise ValueError(f"sce_weight must be in [0, 1], got {sce_weight}")
    ce = F.cross_entropy(student_logits.float(), targets)
    if sce_weight == 0.0:
        return ce
    return sce_weight * _soft_ce(student_logits, q) + (1.0 - sce_weight) * ce
