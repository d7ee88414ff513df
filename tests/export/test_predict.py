"""`synthrec.load_classifier` and `synthrec predict`: class names for images, from the run's head and encoder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import synthrec
from synthrec.cli.app import app
from synthrec.errors import ModelLoadError

runner = CliRunner()
NAMES = ["bird", "cat", "dog"]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict-images")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = root / f"img{i}.png"
        Image.fromarray((rng.random((24, 24, 3)) * 255).astype("uint8")).save(p)
        paths.append(p)
    return paths


def test_load_classifier_predicts_class_names_from_paths_and_pil(finished_run, images):
    clf = synthrec.load_classifier(finished_run)
    assert clf.classnames == NAMES
    probs = clf.predict_proba(images)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    names = clf.predict(images)
    assert names == [NAMES[i] for i in probs.argmax(axis=1)]
    assert clf.predict([Image.open(p) for p in images]) == names
    # The same numbers as encoding by hand and applying the saved head.
    from synthrec.features.encoders import create_encoder
    from synthrec.train import ClassifierHead

    head = ClassifierHead.load(finished_run / "train")
    enc = create_encoder(head.meta["encoder_id"])
    import torch

    with torch.no_grad():
        ref = torch.softmax(head(enc.encode_images([Image.open(p).convert("RGB") for p in images])), -1).numpy()
    assert np.allclose(probs, ref, atol=1e-5)


def test_head_file_alone_says_what_it_is(finished_run, images, tmp_path):
    from safetensors import safe_open

    with safe_open(str(finished_run / "train" / "head.safetensors"), framework="pt") as fh:
        meta = fh.metadata()
    assert json.loads(meta["classnames"]) == NAMES
    assert json.loads(meta["encoder_spec"]).startswith("open_clip:")
    assert len(json.loads(meta["encoder_fingerprint"])) >= 12
    lone = tmp_path / "head.safetensors"
    shutil.copy(finished_run / "train" / "head.safetensors", lone)
    assert synthrec.load_classifier(lone).predict(images) == synthrec.load_classifier(finished_run).predict(images)


def test_head_with_another_encoder_is_refused(finished_run, tmp_path, images):
    from synthrec.testing.tiny_clip import build_tiny_open_clip

    other = build_tiny_open_clip(tmp_path / "other", seed=1)
    with pytest.raises(ModelLoadError, match="trained on features of"):
        synthrec.load_classifier(finished_run, encoder=other)
    res = runner.invoke(app, ["predict", str(finished_run), str(images[0]), "--encoder", other])
    assert res.exit_code == 1 and "error: the head was trained on features of" in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert "Traceback" not in res.output and len(errors) == 1 and res.stdout == ""


def test_predict_cli_text_and_json(finished_run, images):
    expected = synthrec.load_classifier(finished_run).top_k(images, k=2)
    res = runner.invoke(app, ["predict", str(finished_run), *map(str, images), "--top", "2"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert [ln.split("\t")[1].split()[0] for ln in lines] == [pairs[0][0] for pairs in expected]
    res = runner.invoke(app, ["predict", str(finished_run), *map(str, images), "--json", "--top", "3"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [d["class"] for d in doc] == [pairs[0][0] for pairs in expected]
    assert all(abs(sum(t["probability"] for t in d["top"]) - 1) < 1e-4 for d in doc)


def test_predict_json_pipes_into_jq(finished_run, images):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = f"{sys.executable} -m synthrec predict {finished_run} {images[0]} --json | jq -r '.[0].class'"
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == synthrec.load_classifier(finished_run).predict(images[:1])[0]


def test_predict_missing_image_and_unfinished_run(finished_run, tmp_path):
    res = runner.invoke(app, ["predict", str(finished_run), str(tmp_path / "nope.png")])
    assert res.exit_code == 1 and "does not exist" in res.output
    (tmp_path / "config.yaml").write_text("run_dir: x\n")
    res = runner.invoke(app, ["predict", str(tmp_path), str(tmp_path / "nope.png")])
    assert res.exit_code == 1 and "no trained head" in res.output
