"""`synthrec check CONFIG`: every model id, dataset, folder and output path, all problems at once."""
from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from synthrec.cli.app import app

runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from synthrec.testing.tiny_clip import build_tiny_hf_clip, build_tiny_open_clip
    from synthrec.testing.tiny_sd import build_tiny_sd

    root = tmp_path_factory.mktemp("check-models")
    return {"sd": build_tiny_sd(root / "sd", sample_size=8, layers_per_block=1),
            "open_clip": build_tiny_open_clip(root / "oc"), "hf_clip": build_tiny_hf_clip(root / "hf")}


def _write(tmp_path, cfg):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


def _good(tmp_path, models, test_folder=None):
    folder = tmp_path / "test"
    for c in ("cat", "dog"):
        (folder / c).mkdir(parents=True, exist_ok=True)
    return {"run_dir": str(tmp_path / "run"), "labels": {"names": ["cat", "dog"]},
            "generate": {"generator": models["sd"]}, "filter": {"encoder": models["hf_clip"]},
            "train": {"encoder": models["open_clip"]}, "evaluate": {"image_folder": str(folder)}}


def test_a_ready_config_passes(tmp_path, models):
    res = runner.invoke(app, ["check", _write(tmp_path, _good(tmp_path, models))])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("ok:") and not (tmp_path / "run").exists()


def test_every_problem_reported_at_once_one_line_each(tmp_path, models):
    (tmp_path / "afile").write_text("x")
    cfg = _good(tmp_path, models)
    cfg.update({
        "run_dir": str(tmp_path / "afile" / "run"),
        "prompts": {"strategy": "le", "le": {"model": str(tmp_path / "no-t5")}},
        "generate": {"generator": str(tmp_path / "no-sd"), "scheduler": "NoSuchScheduler",
                     "adapters": [{"path": str(tmp_path / "missing_lora.safetensors")}]},
        "filter": {"encoder": "open_clip:RN5O/openai"},
        "train": {"encoder": "hf:nobody/no-such-clip"},
        "evaluate": {"image_folder": str(tmp_path / "no-test-set")},
    })
    res = runner.invoke(app, ["check", _write(tmp_path, cfg)])
    assert res.exit_code == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error: ")]
    keys = [ln.split(": ", 2)[1] for ln in lines]
    assert keys == ["run_dir", "prompts.le.model", "generate.generator", "generate.scheduler",
                    "generate.adapters[0]", "filter.encoder", "train.encoder", "evaluate.image_folder"], res.stderr
    text = res.stderr
    assert "RN50" in text  # the close match is offered
    assert "not in the local Hugging Face cache" in text and "huggingface-cli download nobody/no-such-clip" in text
    assert "Traceback" not in res.output and res.stdout == ""


def test_hub_ids_pass_offline_only_when_cached(tmp_path, models, monkeypatch):
    import huggingface_hub.constants as hub_constants

    cache = tmp_path / "hub"
    snap = cache / "models--someone--tiny-sd" / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (snap / "model_index.json").write_text("{}")
    (cache / "models--someone--tiny-sd" / "refs").mkdir()
    (cache / "models--someone--tiny-sd" / "refs" / "main").write_text("a" * 40)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    cfg = _good(tmp_path, models)
    cfg["generate"]["generator"] = "someone/tiny-sd"
    res = runner.invoke(app, ["check", _write(tmp_path, cfg)])
    assert res.exit_code == 0, res.output
    cfg["generate"]["generator"] = "someone/other-sd"
    res = runner.invoke(app, ["check", _write(tmp_path, cfg)])
    assert res.exit_code == 1 and "generate.generator: generator 'someone/other-sd' is not in the local" in res.stderr


def test_datasets_and_label_sources_are_checked(tmp_path, models):
    cfg = _good(tmp_path, models)
    cfg["labels"] = {"file": str(tmp_path / "classes.txt")}
    cfg["evaluate"] = {"dataset": "eurosat", "root": str(tmp_path / "no-eurosat")}
    res = runner.invoke(app, ["check", _write(tmp_path, cfg)])
    assert res.exit_code == 1
    assert "labels.file: class list file" in res.stderr and "evaluate.dataset: data root" in res.stderr


def test_run_and_generate_check_first_and_make_nothing(tmp_path, models):
    cfg = _good(tmp_path, models)
    cfg["filter"]["encoder"] = "open_clip:RN5O/openai"
    cfg["train"]["encoder"] = str(tmp_path / "no-such-clip")
    path = _write(tmp_path, cfg)
    for command in ("run", "generate"):
        res = runner.invoke(app, [command, path])
        assert res.exit_code == 1, res.output
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error: ")]
        assert [e.split(": ", 2)[1] for e in errors] == ["filter.encoder", "train.encoder"], res.stderr
        assert not (tmp_path / "run" / "generate").exists() and not (tmp_path / "run" / "prompts").exists()
