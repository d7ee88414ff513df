"""Seeds, work units and shards: pure bookkeeping, no model."""
from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from synthrec.errors import DataError
from synthrec.generate import RealGuidance, cut_shards, derive_seed, plan_work, shard_name


def test_derive_seed_is_stable_distinct_and_63_bit():
    s = derive_seed(0, 1, 2, 3)
    assert s == derive_seed(0, 1, 2, 3)
    assert 0 <= s < 2 ** 63
    others = {derive_seed(0, 1, 2, 4), derive_seed(1, 1, 2, 3), derive_seed(0, 2, 2, 3), derive_seed(0, 1, 3, 3)}
    assert s not in others and len(others) == 4
    # Python's hash() is salted per process; the seed must not be.
    code = "from synthrec.generate import derive_seed; print(derive_seed(0, 1, 2, 3))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert int(out.stdout) == s


def test_plan_order_seeds_and_shards(prompts):
    units = plan_work(prompts, 3, run_seed=7)
    assert len(units) == 9
    assert [(u.class_id, u.prompt_id, u.image_index) for u in units[:4]] == [(0, 10, 0), (0, 10, 1), (0, 10, 2),
                                                                            (0, 11, 0)]
    assert all(u.seed == derive_seed(7, u.class_id, u.prompt_id, u.image_index) for u in units)
    assert len({u.image_id for u in units}) == 9 and all("." not in u.image_id for u in units)
    shards = cut_shards(units, 4)
    assert [len(s.units) for s in shards] == [4, 4, 1] and [s.shard_id for s in shards] == [0, 1, 2]
    assert shards[1].name == shard_name(1) == "shard-00001"
    # Row order of the table does not matter.
    assert plan_work(prompts.take([2, 0, 1]), 3, run_seed=7) == units


@pytest.mark.parametrize("table, needle", [
    (pa.table({"class_id": [0, 1], "prompt_id": [1, 1], "text": ["a", "b"]}), "prompt_id 1 appears"),
    (pa.table({"class_id": [0], "text": ["a"]}), "no column 'prompt_id'"),
    (pa.table({"class_id": pa.array([], pa.int64()), "prompt_id": pa.array([], pa.int64()),
               "text": pa.array([], pa.string())}), "empty"),
])
def test_bad_prompts_tables(table, needle):
    with pytest.raises(DataError, match=needle) as err:
        plan_work(table, 1, 0)
    assert "\n" not in str(err.value)


def test_zero_images_per_prompt(prompts):
    with pytest.raises(DataError, match="images_per_prompt"):
        plan_work(prompts, 0, 0)


def test_real_guidance_splits_images_evenly_over_shots(prompts, tmp_path):
    shots = {}
    for cid, n in ((0, 3), (1, 2)):
        shots[cid] = []
        for k in range(n):
            p = tmp_path / f"c{cid}_{k}.png"
            p.write_bytes(b"x%d%d" % (cid, k))
            shots[cid].append(str(p))
    units = plan_work(prompts, 3, 0, guidance=RealGuidance(shots, strength=0.35))
    for cid, paths in shots.items():
        mine = [u for u in units if u.class_id == cid]
        counts = [sum(u.source_shot == p for u in mine) for p in paths]
        assert max(counts) - min(counts) <= 1 and sum(counts) == len(mine)
        assert all(u.init_image == u.source_shot and u.strength == 0.35 for u in mine)
    with pytest.raises(DataError, match="class 1 has no real shots"):
        plan_work(prompts, 3, 0, guidance=RealGuidance({0: shots[0]}, strength=0.35))
    with pytest.raises(DataError, match="strength"):
        RealGuidance(shots, strength=0.0)
