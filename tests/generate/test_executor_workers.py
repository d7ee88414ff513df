"""The executors say when they run fewer workers than asked, and why."""
import logging

from synthrec.generate import generate
from synthrec.generate.executors import fewer_workers_message


def test_message_names_the_cause_and_the_fix():
    assert fewer_workers_message(None, 1, 1) is None
    assert fewer_workers_message(2, 2, 5) is None
    one = fewer_workers_message(2, 1, 1)
    assert "num_workers 2" in one and "only 1 run" in one and "1 shard " in one and "shard_size" in one
    passed = fewer_workers_message(4, 1, 8, passed_generator=True)
    assert "ready generator" in passed and "this process" in passed


def test_one_shard_with_two_workers_is_reported(prompts, make_cfg, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="synthrec.generate"):
        result = generate(prompts, make_cfg(num_workers=2, shard_size=100), tmp_path, run_seed=0, progress=False)
    assert result.num_images == 6
    assert any("num_workers 2 was asked, but only 1 run" in r.getMessage() for r in caplog.records)
