import math

import pytest
import torch
import torch.nn.functional as F

from synthrec.evaluate import top1_report
from synthrec.fewshot.mix import Features, RealStream, phase_wise, tune
from synthrec.train import ClassifierHead


def _data(n, k=3, d=8, seed=0):
    centers = F.normalize(torch.randn(k, d, generator=torch.Generator().manual_seed(0)), dim=-1)
    g = torch.Generator().manual_seed(seed + 1)
    y = torch.arange(n) % k
    x = centers[y] + 0.3 * torch.randn(n, d, generator=g)
    return Features(x, y), centers


def _noise(like, seed=5):
    return torch.randn(like.shape, generator=torch.Generator().manual_seed(seed))


def _head(centers):
    return ClassifierHead.from_weights(10 * centers + 0.5 * _noise(centers))


def test_mix_uses_both_loaders_at_the_configured_sizes():
    syn, centers = _data(1100)
    real, _ = _data(10, seed=1)  # fewer shots than the real batch size
    seen = []
    r = tune(_head(centers), syn=syn, real=real, epochs=3, lr=1e-3, weight_decay=0.1, syn_batch_size=512,
             real_batch_size=32, seed=0, on_batch=seen.append)
    per_epoch = math.ceil(1100 / 512)
    assert r.steps == r.syn_batches == r.real_batches == len(seen) == 3 * per_epoch
    assert [len(b["syn_idx"]) for b in seen[:per_epoch]] == [512, 512, 76]  # an epoch is one pass over syn
    assert all(len(b["real_idx"]) == 32 for b in seen)                     # every real batch is full
    assert sorted(torch.cat([b["syn_idx"] for b in seen[:per_epoch]]).tolist()) == list(range(1100))
    reals = torch.cat([b["real_idx"] for b in seen])
    counts = torch.bincount(reals, minlength=10)
    assert counts.max() - counts.min() <= 1                                # the stream cycles the shots evenly
    assert r.curve[0].lr_start == pytest.approx(1e-3) and r.curve[-1].lr_end < 1e-4  # one cosine over all steps


def test_same_seed_same_head_and_training_helps():
    syn, centers = _data(600)
    real, _ = _data(12, seed=1)
    test, _ = _data(300, seed=2)
    init = ClassifierHead.from_weights(10 * F.normalize(centers + 0.8 * _noise(centers), dim=-1))
    a = tune(init, syn=syn, real=real, epochs=5, lr=1e-2, weight_decay=0.1, syn_batch_size=128, seed=1)
    b = tune(init, syn=syn, real=real, epochs=5, lr=1e-2, weight_decay=0.1, syn_batch_size=128, seed=1)
    assert torch.equal(a.head.linear.weight, b.head.linear.weight)
    assert torch.equal(init.linear.weight, ClassifierHead.from_weights(init.linear.weight).linear.weight)
    def top1(head):
        return top1_report(head(test.feats).argmax(-1), test.labels, ["a", "b", "c"])["top1"]

    assert top1(a.head) > top1(init) + 0.02


def test_real_only_and_phase_wise():
    syn, centers = _data(300)
    real, _ = _data(9, seed=1)
    seen = []
    r = tune(_head(centers), real=real, epochs=4, lr=2e-3, weight_decay=0.1, real_batch_size=4, seed=0,
             on_batch=seen.append)
    assert r.steps == 4 * 3 and all(b["syn_idx"] is None and len(b["real_idx"]) == 4 for b in seen)
    p = phase_wise(_head(centers), "real_syn", syn=syn, real=real, lr=2e-3, seed=0, epochs=2, weight_decay=0.1,
                   syn_batch_size=100, real_batch_size=32)
    assert p.meta["phases"][0]["mode"] == "real" and p.meta["phases"][1]["mode"] == "synthetic"
    assert p.real_batches == 2 and p.syn_batches == 6


def test_real_stream_is_exact_and_seeded():
    s1 = RealStream(5, 32, torch.Generator().manual_seed(0))
    s2 = RealStream(5, 32, torch.Generator().manual_seed(0))
    a, b = s1.next(), s2.next()
    assert len(a) == 32 and torch.equal(a, b)
