"""The demo's run configs come from the bundled YAML and are the configs the demo has always run."""
from __future__ import annotations

from pathlib import Path

from synthrec.config import load_config
from synthrec.demo.run import DemoSize, demo_size, strategies, strategy_config
from synthrec.glyph import world


def _expected(name: str, run_dir: Path, seed: int, size: DemoSize, cache_dir: Path) -> dict:
    """The dict the demo built in code before its settings moved to configs/demo.yaml, plus the glyph world's LE
    prefix (issue 10: the domain goes before every LE sentence, as the paper's EuroSAT prefix)."""
    le = name.startswith("LE")
    prompts = ({"strategy": "le", "per_class": size.le_prompts_per_class, "prefix": world.LE_PREFIX,
                "le": {"model": "glyph", "input_format": world.LE_INPUT, "max_draws": 4 * size.le_prompts_per_class,
                       "max_new_tokens": 64}}
               if le else {"strategy": "basic", "template": world.BASIC_PROMPT})
    per_prompt = max(1, size.images_per_class // (size.le_prompts_per_class if le else 1))
    return {
        "run_dir": str(run_dir), "seed": seed, "labels": {"names": list(world.DIGIT_CLASSNAMES)}, "prompts": prompts,
        "generate": {"generator": "glyph", "images_per_prompt": per_prompt, "steps": size.steps, "batch_size": 250,
                     "shard_size": 1000},
        "filter": {"enabled": "CF" in name, "encoder": "glyph"},
        "train": {"encoder": "glyph", "templates": list(world.ZERO_SHOT_TEMPLATES), "epochs": size.epochs,
                  "sce_weight": 0.5 if name.endswith("SCE") else 0.0, "cache_dir": str(cache_dir)},
        "evaluate": {"dataset": "digits", "split": "test"},
        "report": {"title": f"glyph world, {name}, seed {seed}"},
    }


def test_demo_configs_from_the_bundled_yaml_are_unchanged(tmp_path):
    assert strategies() == ("B", "B+SCE", "LE", "LE+SCE", "LE+CF", "LE+CF+SCE")
    assert demo_size(False) == DemoSize(60, 12, 15, 30) and demo_size(True) == DemoSize(12, 3, 4, 5)
    for quick in (False, True):
        size = demo_size(quick)
        for name in strategies():
            got = load_config(data=strategy_config(name, tmp_path / name, 3, size, tmp_path / "f"))
            want = load_config(data=_expected(name, tmp_path / name, 3, size, tmp_path / "f"))
            assert got == want, name
