import pytest
import torch

from synthrec.pretrain.checkpoint import load_checkpoint, save_checkpoint
from synthrec.pretrain.run import pretrain

from pretrain_helpers import TINY_VIT, tiny_config


def test_round_trip_model_optimizer_and_meta(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.randn(2, 3)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c.safetensors", model.state_dict(), {"position": {"epoch": 3}},
                           opt.state_dict(), extra={"queue": {"bank": torch.arange(6.0)}})
    ckpt = load_checkpoint(path)
    assert ckpt.meta["position"] == {"epoch": 3} and torch.equal(ckpt.extra["queue"]["bank"], torch.arange(6.0))
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt.model[k], v)
    fresh = torch.optim.AdamW(model.parameters(), lr=0.1)
    fresh.load_state_dict(ckpt.optimizer)
    for a, b in zip(opt.state_dict()["state"].values(), fresh.state_dict()["state"].values()):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "state.json").is_file() and not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("method", ["supervised", "mocov2"])
def test_kill_and_resume_ends_like_an_uninterrupted_run(make_set, tmp_path, method):
    shard_set = make_set()
    cfg = tiny_config(shard_set.folder, TINY_VIT, method=method, epochs=3)
    whole = pretrain(cfg, tmp_path / "whole", seed=1)
    first = pretrain(cfg, tmp_path / "cut", seed=1, stop_after_epochs=1)
    assert first["epochs_done"] == 1
    resumed = pretrain(cfg, tmp_path / "cut", seed=1)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]
    a, b = load_checkpoint(whole["checkpoint"]), load_checkpoint(resumed["checkpoint"])
    for k in a.model:
        torch.testing.assert_close(a.model[k], b.model[k], rtol=1e-5, atol=1e-6)
    assert [round(h["loss"], 5) for h in whole["history"]] == [round(h["loss"], 5) for h in resumed["history"]]
