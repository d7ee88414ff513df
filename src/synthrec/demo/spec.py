"""The demo's settings: the bundled ``configs/demo.yaml`` and the run config of one strategy and seed."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

DEMO_CONFIG = "demo.yaml"  # in the package's bundled configs folder


@dataclass(frozen=True)
class DemoSize:
    images_per_class: int
    le_prompts_per_class: int
    steps: int
    epochs: int


def demo_spec() -> dict:
    """The bundled ``configs/demo.yaml``: the base config, the strategies' settings and the sizes."""
    from importlib.resources import files

    return yaml.safe_load(files("synthrec").joinpath("configs", DEMO_CONFIG).read_text(encoding="utf-8"))


def strategies() -> tuple[str, ...]:
    return tuple(demo_spec()["strategies"])


def demo_size(quick: bool) -> DemoSize:
    return DemoSize(**demo_spec()["sizes"]["quick" if quick else "full"])


def strategy_config(name: str, run_dir: Path, seed: int, size: DemoSize, cache_dir: Path) -> dict:
    """The run config of one strategy and seed, from the bundled YAML."""
    spec = demo_spec()
    strategy = spec["strategies"][name]
    cfg = copy.deepcopy(spec["base"])
    prompts = copy.deepcopy(spec["prompts"][strategy["prompts"]])
    le = prompts["strategy"] == "le"
    if le:
        prompts["per_class"] = size.le_prompts_per_class
        prompts["le"]["max_draws"] = 4 * size.le_prompts_per_class
    cfg.update(run_dir=str(run_dir), seed=seed, prompts=prompts, report={"title": f"glyph world, {name}, seed {seed}"})
    cfg["generate"].update(images_per_prompt=max(1, size.images_per_class // (size.le_prompts_per_class if le else 1)),
                           steps=size.steps)
    cfg["filter"]["enabled"] = bool(strategy["filter"])
    cfg["train"].update(epochs=size.epochs, sce_weight=float(strategy["sce_weight"]), cache_dir=str(cache_dir))
    return cfg


def run_dir_of(out: Path, seed: int, name: str) -> Path:
    return out / f"seed{seed}" / name.replace("+", "_")
