"""The soft-target loss against a hand computation (λ = 0.5, T = 2)."""
import math

import pytest
import torch
import torch.nn.functional as F

from synthrec.train import soft_cross_entropy, soft_target_loss


def _softmax(v):
    m = max(v)
    e = [math.exp(x - m) for x in v]
    return [x / sum(e) for x in e]


def _log_softmax(v):
    m = max(v)
    lse = m + math.log(sum(math.exp(x - m) for x in v))
    return [x - lse for x in v]


def test_loss_matches_hand_computation():
    z_s = [[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]]
    z_t = [[4.0, 0.0, 2.0], [0.0, 6.0, 0.0]]
    y = [1, 2]
    lam, T = 0.5, 2.0
    sce = ce = 0.0
    for s, t, c in zip(z_s, z_t, y):
        q = _softmax([x / T for x in t])  # teacher tempered
        ls = _log_softmax(s)  # student not
        sce += -sum(qi * li for qi, li in zip(q, ls))
        ce += -ls[c]
    expected = lam * sce / 2 + (1 - lam) * ce / 2
    got = soft_target_loss(torch.tensor(z_s), torch.tensor(z_t), torch.tensor(y), sce_weight=0.5, temperature=2.0)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # the first sample by hand: q = softmax(2, 0, 1), log_softmax(1, 2, 0)
    q = [math.exp(2), 1.0, math.exp(1)]
    q = [x / sum(q) for x in q]
    lse = math.log(math.e + math.e ** 2 + 1)
    first = -(q[0] * (1 - lse) + q[1] * (2 - lse) + q[2] * (0 - lse))
    assert soft_cross_entropy(torch.tensor(z_s[:1]), torch.tensor(z_t[:1]), 2.0).item() == pytest.approx(first, rel=1e-6)


def test_no_gradient_reaches_the_teacher_and_lambda_zero_is_ce():
    z_s = torch.randn(4, 3, requires_grad=True)
    z_t = torch.randn(4, 3, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0])
    soft_target_loss(z_s, z_t, y).backward()
    assert z_s.grad is not None and z_t.grad is None
    assert soft_target_loss(z_s, None, y, sce_weight=0.0).item() == pytest.approx(F.cross_entropy(z_s, y).item())
    with pytest.raises(ValueError):
        soft_target_loss(z_s, z_t, y, sce_weight=1.5)
