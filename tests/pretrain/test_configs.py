from pathlib import Path

import pytest

from synthrec.config import load_pretrain_transfer_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["glyph_pretrain.yaml", "cifar100_pretrain.yaml"])
def test_bundled_configs_validate(name):
    cfg = load_pretrain_transfer_config(CONFIGS / name)
    assert cfg.pretrain is not None and cfg.transfer is not None
