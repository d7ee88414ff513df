"""A few-shot run end to end on tiny models: tiny Stable Diffusion (real diffusers img2img for Real Guidance), a tiny
open_clip encoder, ImageFolders of coloured squares as the real pool and test set."""
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthrec.config.load import validate_config
from synthrec.errors import DataError

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def _folder(root: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for name, rgb in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            arr = np.clip(np.array(rgb) + rng.normal(0, 25, (32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(root / name / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from synthrec.testing.tiny_clip import build_tiny_open_clip
    from synthrec.testing.tiny_sd import build_tiny_sd

    root = tmp_path_factory.mktemp("fewshot")
    return {"root": root, "sd": build_tiny_sd(root / "sd", sample_size=8),
            "clip": build_tiny_open_clip(root / "clip"), "pool": _folder(root / "pool", 4, 0),
            "test": _folder(root / "test", 3, 1)}


def _cfg(world, run_dir, **fewshot):
    fs = dict(image_folder=str(world["pool"]), shots=[1, 2], seeds=[0, 1], strategies=["none", "B", "RF", "RG"],
              baselines=["phase_syn_real", "phase_real_syn"], images_per_class=2, epochs=2, syn_batch_size=4,
              real_batch_size=2, t_star={2: 40, 1: 50}, b_prompts="basic", b_filter=False)
    fs.update(fewshot)
    return validate_config({
        "run_dir": str(run_dir), "seed": 0, "labels": {"names": list(COLOURS)},
        "prompts": {"template": "a photo of a {c} square."},
        "generate": {"generator": world["sd"], "steps": 2, "guidance_scale": 1.0, "batch_size": 8, "shard_size": 8,
                     "device": "cpu"},
        "train": {"encoder": world["clip"], "device": "cpu", "templates": ["a photo of a {c} square."]},
        "evaluate": {"image_folder": str(world["test"])},
        "fewshot": fs})


def test_run_end_to_end(world):
    from synthrec.fewshot import rg_strength, run_fewshot
    from synthrec.generate import read_manifest

    run_dir = world["root"] / "run"
    summary = run_fewshot(_cfg(world, run_dir), run_dir)
    out = run_dir / "fewshot"
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    assert summary["runs"] == len(runs) == 2 * 2 * 6
    assert {(r["k"], r["seed"], r["strategy"]) for r in runs} == {
        (k, s, st) for k in (1, 2) for s in (0, 1)
        for st in ("none", "B", "RF", "RG", "phase_syn_real", "phase_real_syn")}
    for r in runs:
        assert 0.0 <= r["top1"] <= 1.0 and set(r["per_class"]) == set(COLOURS) and r["n_test"] == 9
        assert r["n_real"] == 3 * r["k"]
    mix = next(r for r in runs if r["strategy"] == "RG" and r["k"] == 2)
    assert mix["train"]["real_batches"] == mix["train"]["syn_batches"] == mix["train"]["steps"] == 2 * 2
    assert 0.0 <= results["zero_shot"]["top1"] <= 1.0

    # the shots: class-balanced, written as lists of chosen files
    shots = json.loads((out / "shots" / "shots-k2-seed1.json").read_text())
    assert Counter(s["class_name"] for s in shots["shots"]) == {c: 2 for c in COLOURS}
    assert all(Path(s["id"]).is_file() for s in shots["shots"])

    # one B set for every k and seed; one RG set per (k, seed)
    syn = sorted(p.name.split("-")[0] for p in (out / "synthetic").iterdir())
    assert syn == ["B"] + ["RG"] * 4
    # RG's manifest: each image's source shot is a shot of its class, images split evenly over the shots
    for folder in (out / "synthetic").glob("RG-*"):
        rows = read_manifest(folder).to_pylist()
        k = len({r["source_shot"] for r in rows}) // 3
        drawn = json.loads((out / "shots" / f"shots-k{k}-seed0.json").read_text())["shots"] + \
            json.loads((out / "shots" / f"shots-k{k}-seed1.json").read_text())["shots"]
        by_class = {}
        for s in drawn:
            by_class.setdefault(s["class_id"], set()).add(s["id"])
        assert len(rows) == 3 * 2
        assert all(r["source_shot"] in by_class[r["class_id"]] for r in rows)
        assert set(Counter(r["source_shot"] for r in rows).values()) == {2 // k}
        assert {r["strength"] for r in rows} == {rg_strength({1: 50, 2: 40}[k], _scheduler(world))}

    html = (out / "report.html").read_text()
    assert "<img src=\"data:image/png;base64," in html and "mix: real + RG" in html and "<script" not in html

    # a second call reuses every run and every generated set
    again = run_fewshot(_cfg(world, run_dir), run_dir)
    assert again["mean_top1"] == summary["mean_top1"]


def _scheduler(world):
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_pretrained(world["sd"], subfolder="scheduler")


def test_bad_shots_are_clear_errors(world, tmp_path):
    from synthrec.fewshot import run_fewshot

    with pytest.raises(DataError, match=r"has 4 real images but 5 shots") as e:
        run_fewshot(_cfg(world, tmp_path / "r1", shots=[5], strategies=["none"], baselines=[]), tmp_path / "r1")
    assert "\n" not in str(e.value)

    broken = _folder(tmp_path / "pool", 2, 3)
    for f in (broken / "green").iterdir():
        f.write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"cannot be decoded.*skip_corrupt") as e:
        run_fewshot(_cfg(world, tmp_path / "r2", image_folder=str(broken), shots=[1], strategies=["none"],
                         baselines=[]), tmp_path / "r2")
    assert "green" in str(e.value) and "\n" not in str(e.value)


def test_adapter_strategies_train_reuse_and_report(world, tmp_path):
    """lora (one adapter per class) and textual inversion, alone and with RG, through run_fewshot; a second run
    reuses every adapter file and result."""
    from synthrec.adapt import read_info
    from synthrec.fewshot import run_fewshot

    run_dir = tmp_path / "run"
    adapt = {"lora_scope": "class", "lora_steps": 2, "lora_lr": 0.05, "ti_steps": 2, "ti_lr": 0.5, "batch_size": 2}
    strategies = ["none", "lora", "lora_RG", "textual_inversion", "textual_inversion_RG"]
    cfg = _cfg(world, run_dir, shots=[1], seeds=[0], strategies=strategies, baselines=[], adapt=adapt)
    run_fewshot(cfg, run_dir)
    out = run_dir / "fewshot"
    runs = {r["strategy"]: r for r in json.loads((out / "results.json").read_text())["runs"]}
    assert set(runs) == set(strategies) and all(0.0 <= r["top1"] <= 1.0 for r in runs.values())
    assert runs["lora"]["n_syn"] == runs["textual_inversion_RG"]["n_syn"] == 3 * 2
    files = sorted((out / "adapters").iterdir())
    kinds = [read_info(f)["kind"] for f in files]
    assert kinds.count("lora") == 3 and kinds.count("textual_inversion") == 3  # per class, shared by the RG forms
    assert runs["textual_inversion"]["synthetic"]["prompts"][0] == "a photo of a <synthrec-red> square."
    # the plain strategies' sets and the adapted ones are different folders
    syn = sorted(p.name.split("-")[0] for p in (out / "synthetic").iterdir())
    assert syn == ["lora", "lora_RG", "textual_inversion", "textual_inversion_RG"]
    report = (out / "report.md").read_text()
    assert "LoRA (DataDream)" in report and "textual inversion + RG" in report

    stamps = {f: f.stat().st_mtime_ns for f in files}
    again = run_fewshot(cfg, run_dir)
    assert again["runs"] == len(strategies)
    assert {f: f.stat().st_mtime_ns for f in sorted((out / "adapters").iterdir())} == stamps


def test_b_with_the_clip_filter_keeps_what_the_zero_shot_head_passes(world, tmp_path):
    from synthrec.fewshot import run_fewshot

    run_dir = tmp_path / "run"
    cfg = _cfg(world, run_dir, shots=[1], seeds=[0], strategies=["B"], baselines=[], b_filter=True)
    cfg.filter.threshold = 0.05  # the tiny random CLIP scores near 1/3 (3 classes): most images pass
    run_fewshot(cfg, run_dir)
    run = json.loads((run_dir / "fewshot" / "results.json").read_text())["runs"][0]
    cf = run["synthetic"]["clip_filter"]
    assert cf["of"] == 6 and 1 <= cf["kept"] <= 6 and sum(cf["kept_per_class"]) == cf["kept"] == run["n_syn"]
