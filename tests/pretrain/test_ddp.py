"""Two CPU processes under DDP (gloo) train like one process on the union of their batches."""
from __future__ import annotations

import multiprocessing as mp
import os
import socket

import torch
from pretrain_helpers import TINY_VIT, tiny_config

from synthrec.pretrain.checkpoint import load_checkpoint
from synthrec.pretrain.run import pretrain

# No BatchNorm (a ViT) and no random crop: a half batch on each of two ranks then gives exactly the gradient of the
# full batch in one process, and DDP's all-reduce averages the two halves.
DETERMINISTIC = {"epochs": 2, "scale": (1.0, 1.0), "ratio": (1.0, 1.0), "lr": 0.1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, folder: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    pretrain(tiny_config(folder, TINY_VIT, batch_size=8, **DETERMINISTIC), out, seed=0)
    torch.distributed.destroy_process_group()


def test_ddp_two_cpu_processes_match_one(make_set, tmp_path):
    shard_set = make_set(n=16, shard_size=8)                # one shard per rank, one full-batch step per epoch
    single = pretrain(tiny_config(shard_set.folder, TINY_VIT, batch_size=16, **DETERMINISTIC), tmp_path / "one")
    port = _free_port()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_rank, args=(r, port, shard_set.folder, str(tmp_path / "ddp"))) for r in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0]
    a, b = load_checkpoint(single["checkpoint"]), load_checkpoint(tmp_path / "ddp" / "checkpoints")
    assert b.meta["world_size"] == 2 and [h["images"] for h in b.meta["history"]] == [8, 8]
    for k in a.model:
        torch.testing.assert_close(a.model[k], b.model[k], rtol=1e-4, atol=1e-5)
