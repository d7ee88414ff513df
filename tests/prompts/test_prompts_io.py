"""prompts.parquet: atomic write, exact round trip, clear errors."""
from __future__ import annotations

import pytest

from synthrec.config.schema import PromptsConfig
from synthrec.errors import DataError, SynthrecError
from synthrec.labels import LabelSpace
from synthrec.prompts import build_prompts, read_prompts, write_prompts


def test_parquet_round_trip(tmp_path):
    labels = LabelSpace.from_names(["dog", "cat"])
    t = build_prompts(labels, PromptsConfig(strategy="templates", template_set="cifar"), seed=11)
    path = tmp_path / "run" / "prompts.parquet"
    write_prompts(path, t)
    back = read_prompts(path)
    assert back.equals(t)
    assert back.schema.equals(t.schema)
    assert [p.name for p in path.parent.iterdir()] == ["prompts.parquet"]  # no temporary file left behind


def test_read_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_prompts(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not readable Parquet") as err:
        read_prompts(bad)
    assert "\n" not in str(err.value)


def test_write_rejects_a_foreign_table(tmp_path):
    import pyarrow as pa

    with pytest.raises(SynthrecError, match="lacks column"):
        write_prompts(tmp_path / "p.parquet", pa.table({"text": ["a"]}))
    assert not (tmp_path / "p.parquet").exists()
