"""Head tuning holds no second copy of its features: stored precision kept, soft targets kept only when small."""
import torch
import torch.nn.functional as F

from synthrec.config.schema import TrainConfig
from synthrec.train import train_head
from synthrec.train import trainer


def _data(n=300, k=4, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = F.normalize(torch.randn(k, d, generator=g), dim=-1)
    y = torch.randint(0, k, (n,), generator=g)
    x = centers[y] + 0.4 * torch.randn(n, d, generator=g)
    init = F.normalize(centers + torch.randn(k, d, generator=g), dim=-1) * 10.0
    return x, y, init


CFG = TrainConfig(device="cpu", epochs=3, batch_size=64, sce_weight=0.5)


def test_half_precision_features_train_as_their_float32_values():
    x, y, init = _data()
    half = x.half()
    a = train_head(half, y, init, CFG, seed=1, progress=False).head.linear.weight
    b = train_head(half.float(), y, init, CFG, seed=1, progress=False).head.linear.weight
    assert torch.equal(a, b)


def test_soft_targets_per_batch_match_the_kept_ones(monkeypatch):
    x, y, init = _data()
    kept = train_head(x, y, init, CFG, seed=2, progress=False)
    monkeypatch.setattr(trainer, "_Q_KEEP_FRACTION", 0.0)  # as for 1,000 classes: q as large as the features
    per_batch = train_head(x, y, init, CFG, seed=2, progress=False)
    assert torch.allclose(kept.head.linear.weight, per_batch.head.linear.weight, atol=1e-6)
    assert [round(r.loss, 6) for r in kept.curve] == [round(r.loss, 6) for r in per_batch.curve]


def test_the_callers_features_are_not_changed():
    x, y, init = _data()
    before = x.clone()
    train_head(x, y, init, CFG, seed=0, progress=False)
    assert torch.equal(x, before)
