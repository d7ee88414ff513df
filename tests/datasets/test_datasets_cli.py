"""`synthrec datasets list|show`, run on the sub-app directly."""
import pytest
from typer.testing import CliRunner

from synthrec.cli.datasets import app
from synthrec.datasets import get_dataset_info, list_datasets

runner = CliRunner()
WIDE = {"COLUMNS": "220"}


def test_list_shows_every_dataset():
    result = runner.invoke(app, ["list"], env=WIDE)
    assert result.exit_code == 0, result.output
    for name in list_datasets():
        assert name in result.output
    row = next(line for line in result.output.splitlines() if " eurosat_fewshot " in line)
    assert "few-shot" in row and "yes+file" in row and " 10 " in row
    row = next(line for line in result.output.splitlines() if " imagenet " in line)
    assert " no " in row and "1000" in row


def test_list_is_readable_at_80_columns():
    result = runner.invoke(app, ["list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    header = next(line for line in lines if " name " in line)
    for column in ("classes", "setting", "test", "download", "title"):
        assert column in header
    for name in list_datasets():  # every name in full, with its class count
        info = get_dataset_info(name)
        assert any(line.split()[:2] == [name, str(info.num_classes)] for line in lines if line.strip()), name


def test_list_filters_by_setting_and_pattern():
    result = runner.invoke(app, ["list", "--setting", "few-shot"], env=WIDE)
    assert result.exit_code == 0 and "eurosat_fewshot" in result.output and " cifar10 " not in result.output
    result = runner.invoke(app, ["list", "cifar*"], env=WIDE)
    assert "cifar100" in result.output and "eurosat" not in result.output


@pytest.mark.parametrize("name", list_datasets())
def test_show_prints_names_prompts_splits_and_layout(name):
    info = get_dataset_info(name)
    result = runner.invoke(app, ["show", name], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert info.title in out and info.simple_templates[0] in out and info.clip_templates[-1] in out
    assert info.classnames[0] in out and info.classnames[-1] in out
    assert info.test_split in out and "layout" in out
    for split, size in info.split_sizes.items():
        assert f"{size:,}" in out, split


def test_show_eurosat_in_detail():
    result = runner.invoke(app, ["show", "eurosat"], env=WIDE)
    out = result.output
    assert "Annual Crop Land" in out and "AnnualCrop" in out and "8,100" in out
    assert "a centered satellite photo of {}." in out and "split_zhou_EuroSAT.json" in out
    short = runner.invoke(app, ["show", "eurosat", "--no-names"], env=WIDE)
    assert short.exit_code == 0 and "Herbaceous Vegetation Land" not in short.output


def test_unknown_dataset_is_one_line_error():
    result = runner.invoke(app, ["show", "eurosatt"], env=WIDE)
    assert result.exit_code == 1
    assert "unknown dataset 'eurosatt'" in result.output and "eurosat_fewshot" in result.output
    assert "Traceback" not in result.output


HEAVY = ("torch", "torchvision", "transformers", "diffusers", "open_clip", "numpy", "PIL", "pyarrow", "matplotlib")


@pytest.mark.parametrize("args", [["--help"], ["datasets", "list"], ["datasets", "show", "eurosat"]])
def test_listing_datasets_imports_no_heavy_library(args):
    """Start-up regression guard (issue 15): what a dataset is needs no torch; a top-level import anywhere on the
    path of these commands brings 5 s of start-up back. Checked in a fresh interpreter, as a user runs them."""
    import json
    import os
    import subprocess
    import sys

    code = ("import json, sys\nfrom synthrec.cli.app import main\nsys.argv = ['synthrec', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                         env={**os.environ, "COLUMNS": "200"})
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
