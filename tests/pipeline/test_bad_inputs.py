"""Bad input through the CLI: one line naming the problem and the fix, a non-zero exit, no traceback, and nothing
finished lost."""
from __future__ import annotations

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from synthrec.cli.app import app

runner = CliRunner()


def _invoke(*args):
    res = runner.invoke(app, [str(a) for a in args])
    return res, res.output


def _assert_one_line_error(res, out, *needles):
    assert res.exit_code == 1, out
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, out
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])


def _cfg(tmp_path, **patch):
    cfg = {"run_dir": str(tmp_path / "run"), "labels": {"names": ["cat", "dog"]},
           "prompts": {"strategy": "basic"},
           "generate": {"generator": "no-such-org/no-such-model", "images_per_prompt": 1, "steps": 1},
           "train": {"encoder": "glyph"}}  # resolves offline, so the run's checks flag only what a test breaks
    for k, v in patch.items():
        cfg[k] = v
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_missing_config_file(tmp_path):
    _assert_one_line_error(*_invoke("run", tmp_path / "nope.yaml"), "does not exist")


@pytest.mark.parametrize("patch, needles", [
    ({"labels": {"names": []}}, ["empty"]),
    ({"labels": {"names": ["cat", "cat"]}}, ["appears twice"]),
    ({"labels": {"names": ["cat", ".."]}}, ["only dots"]),
    ({"labels": {"file": "/no/such/classes.txt"}}, ["does not exist"]),
    ({"labels": {"image_folder": "/no/such/folder"}}, ["does not exist"]),
    ({"labels": {"names": ["a", "b"]}, "bogus_section": 1}, ["unknown key"]),
    ({"generate": {"generator": "x", "images_per_prompt": 0}}, ["images_per_prompt"]),
    ({"generate": {"generator": "x", "images_per_prompt": -3}}, ["images_per_prompt"]),
    ({"generate": {"generator": "x", "steps": "ten"}}, ["generate.steps"]),
    ({"train": {"epochs": 0}}, ["train.epochs"]),
])
def test_bad_config_values(tmp_path, patch, needles):
    _assert_one_line_error(*_invoke("run", _cfg(tmp_path, **patch)), *needles)


def test_empty_class_file(tmp_path):
    f = tmp_path / "classes.txt"
    f.write_text("# nothing here\n\n")
    _assert_one_line_error(*_invoke("run", _cfg(tmp_path, labels={"file": str(f)})), "empty")


@pytest.mark.parametrize("generator, needle", [
    ("no-such-org/no-such-model", "no-such-org/no-such-model"),
    ("/no/such/local/pipeline", "/no/such/local/pipeline"),
])
def test_unknown_generator(tmp_path, generator, needle):
    cfg = _cfg(tmp_path, generate={"generator": generator, "images_per_prompt": 1, "steps": 1})
    _assert_one_line_error(*_invoke("run", cfg), needle)
    assert not (tmp_path / "run" / "prompts").exists()  # checked before any stage runs


def test_unknown_encoder(tmp_path, tiny_models):
    cfg = _cfg(tmp_path, generate={"generator": tiny_models["sd"], "images_per_prompt": 1, "steps": 1,
                                   "height": 32, "width": 32},
               filter={"encoder": "open_clip:NoSuchArch/openai"})
    _assert_one_line_error(*_invoke("run", cfg), "NoSuchArch")
    assert not (tmp_path / "run" / "generate").exists()  # found before a single image is generated


def test_non_run_folder_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "precious.txt").write_text("mine")
    _assert_one_line_error(*_invoke("run", _cfg(tmp_path)), "not a synthrec run folder")
    assert (tmp_path / "run" / "precious.txt").read_text() == "mine"


def test_slashes_in_class_names_never_escape_the_run_folder(tmp_path, tiny_models):
    cfg = _cfg(tmp_path, labels={"names": ["F/A-18", "../../escape"]},
               generate={"generator": tiny_models["sd"], "images_per_prompt": 1, "steps": 1, "height": 32,
                         "width": 32, "format": "imagefolder"},
               filter={"enabled": False, "encoder": tiny_models["open_clip"]},
               train={"encoder": tiny_models["open_clip"], "epochs": 1})
    res, out = _invoke("run", cfg)
    assert res.exit_code == 0, out
    images = list((tmp_path / "run" / "generate" / "images").rglob("*.png"))
    assert len(images) == 2
    assert all((tmp_path / "run").resolve() in p.resolve().parents for p in images)
    assert not (tmp_path / "escape").exists()


def test_corrupt_test_image(tmp_path, tiny_models, test_folder):
    import shutil

    folder = tmp_path / "test"
    shutil.copytree(test_folder, folder)
    (folder / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    base = dict(labels={"names": ["bird", "cat", "dog"]},
                generate={"generator": tiny_models["sd"], "images_per_prompt": 1, "steps": 1, "height": 32,
                          "width": 32},
                filter={"encoder": tiny_models["open_clip"]}, train={"encoder": tiny_models["open_clip"], "epochs": 1})
    cfg = _cfg(tmp_path, evaluate={"image_folder": str(folder)}, **base)
    _assert_one_line_error(*_invoke("run", cfg), "broken.png")
    assert (tmp_path / "run" / "train" / "head.safetensors").is_file()  # the trained head survives
    cfg = _cfg(tmp_path, evaluate={"image_folder": str(folder), "skip_corrupt": True}, **base)
    res, out = _invoke("run", cfg)
    assert res.exit_code == 0, out


def test_ctrl_c_keeps_finished_work(tmp_path, monkeypatch):
    import synthrec.runners as runners

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runners, "run_generate", interrupted)
    res, out = _invoke("run", _cfg(tmp_path, generate={"generator": "glyph", "images_per_prompt": 1, "steps": 1}))
    assert res.exit_code == 130 and "interrupted" in out and "Traceback" not in out
    assert (tmp_path / "run" / "prompts" / "prompts.parquet").is_file()
