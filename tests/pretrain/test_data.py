from collections import Counter

import pytest

from synthrec.errors import DataError
from synthrec.pretrain.data import ShardStream, make_loader, open_set, shards_for


def _keys(stream, workers):
    loader = make_loader(stream, batch_size=5, num_workers=workers)
    return [k for batch in loader for k in batch[2]]


def test_every_image_once_per_epoch_across_workers(make_set):
    shard_set = make_set(n=30, shard_size=4)          # 8 shards, the last one short
    import torchvision.transforms as T

    stream = ShardStream(shard_set, T.ToTensor(), seed=3, shuffle_buffer=6)
    stream.set_epoch(1)
    keys = _keys(stream, workers=2)
    assert Counter(keys) == Counter({f"img{i:08d}": 1 for i in range(30)})


def test_every_image_once_across_ranks_and_workers(make_set):
    shard_set = make_set(n=24, shard_size=4)
    seen = []
    for rank in (0, 1):
        for worker in (0, 1):
            seen += shards_for(shard_set.shards, seed=1, epoch=5, rank=rank, world_size=2, worker=worker,
                               num_workers=2)
    assert sorted(seen) == sorted(shard_set.shards)


def test_shuffles_across_shards_and_epochs(make_set):
    import torchvision.transforms as T

    stream = ShardStream(make_set(n=32, shard_size=8), T.ToTensor(), seed=0, shuffle_buffer=16)
    first = _keys(stream, 0)
    stream.set_epoch(1)
    second = _keys(stream, 0)
    assert first != second and sorted(first) == sorted(second)
    # the buffer mixes shards: the first 8 samples do not all come from one shard
    assert len({int(k[3:]) // 8 for k in first[:8]}) > 1


def test_folder_without_shards_is_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no shards"):
        open_set(tmp_path / "empty", classnames=["a", "b"])
