import pytest
from pretrain_helpers import TINY_RESNET, TINY_VIT, pattern_images, tiny_config

from synthrec.pretrain.checkpoint import CheckpointError
from synthrec.pretrain.run import pretrain
from synthrec.transfer import TransferConfig
from synthrec.transfer.finetune import stratified_subset
from synthrec.transfer.run import run_transfer


def _memory_set(n, seed, split):
    from synthrec.datasets import MemoryImageDataset

    images, labels = pattern_images(n, 4, seed)
    return MemoryImageDataset(images, labels, name="patterns", split=split, classnames=["a", "b", "c", "d"])


def test_transfer_from_a_checkpoint_beats_scratch(make_set, tmp_path):
    # Pre-training has learnt the bars; with only a few fine-tuning steps at a low lr, scratch cannot catch up.
    crop = (0.6, 1.0)  # the bars survive the crop
    shard_set = make_set(n=64, shard_size=16)
    ckpt = pretrain(tiny_config(shard_set.folder, TINY_RESNET, epochs=5, lr=0.1, schedule="constant", scale=crop),
                    tmp_path / "pt", seed=0)["checkpoint"]
    cfg = TransferConfig(dataset="digits", inits={"scratch": None, "pretrained": ckpt}, seeds=[0],
                         recipe={"epochs": 3, "batch_size": 8, "lr": 0.05, "hflip": 0.0, "scale": crop},
                         num_workers=0, device="cpu", precision="fp32")
    result = run_transfer(cfg, tmp_path / "transfer", train_set=_memory_set(16, 5, "train"),
                          test_set=_memory_set(40, 6, "test"))
    scratch, pretrained = (row["1"]["mean"] for row in result["table"])
    assert pretrained > scratch + 0.15
    assert (tmp_path / "transfer" / "table.md").read_text().count("|") > 6


def test_checkpoint_of_another_architecture_is_refused(make_set, tmp_path):
    ckpt = pretrain(tiny_config(make_set().folder, TINY_VIT, epochs=1), tmp_path / "pt")["checkpoint"]
    cfg = TransferConfig(dataset="digits", model=TINY_RESNET[0], model_kwargs=TINY_RESNET[1], image_size=16,
                         inits={"pretrained": ckpt}, recipe={"epochs": 1}, num_workers=0, device="cpu")
    with pytest.raises(CheckpointError, match="holds a 'vit_tiny_patch16_224' model"):
        run_transfer(cfg, tmp_path / "t", train_set=_memory_set(8, 0, "train"), test_set=_memory_set(8, 1, "test"))


def test_stratified_subset_keeps_every_class_and_is_seeded():
    labels = [i % 10 for i in range(200)]
    a, b = stratified_subset(labels, 1 / 16, seed=3), stratified_subset(labels, 1 / 16, seed=3)
    assert a == b and {labels[i] for i in a} == set(range(10)) and len(a) == 10
    assert stratified_subset(labels, 1 / 16, seed=4) != a
