"""The package's import graph (read with ``ast``, see scripts/import_graph.py) stays a DAG, and the stage table
stays the one definition its readers and writers agree on."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph_tools():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph(graph_tools):
    return graph_tools.build_graph(ROOT / "src")


def test_the_graph_is_read(graph):
    # the checks below mean something only if the reader sees the package's real edges
    assert "synthrec.api" in graph and "synthrec.stages" in graph["synthrec.api"]
    assert "synthrec.glyph.models.clip" in graph["synthrec.features.encoders.glyph"]  # importlib.import_module


def test_no_module_import_cycles(graph, graph_tools):
    found = graph_tools.cycles(graph)
    assert not found, "modules import each other in a loop: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_package_imports_another_packages_private_module(graph, graph_tools):
    bad = graph_tools.private_imports(graph)
    assert not bad, "private modules imported from outside their package: " + ", ".join(f"{a} -> {b}"
                                                                                        for a, b in bad)


def test_cycle_and_privacy_checks_catch_what_they_should(graph_tools):
    loop = {"synthrec.a": {"synthrec.b"}, "synthrec.b": {"synthrec.c"}, "synthrec.c": {"synthrec.a"},
            "synthrec.d": {"synthrec.x._private"}, "synthrec.x._private": set(),
            "synthrec.x.y": {"synthrec.x._private"}}
    assert graph_tools.cycles(loop) == [["synthrec.a", "synthrec.b", "synthrec.c"]]
    assert graph_tools.private_imports(loop) == [("synthrec.d", "synthrec.x._private")]


def test_report_modules_import_no_stage_runner(graph):
    runners = {"synthrec.api", "synthrec.runners", "synthrec.fewshot", "synthrec.fewshot.run", "synthrec.demo",
               "synthrec.demo.run"}
    for module, targets in graph.items():
        if module.startswith("synthrec.report"):
            assert not targets & runners, f"{module} imports {sorted(targets & runners)}"


def test_every_error_class_is_a_synthrec_error(graph):
    import ast

    for module in graph:
        path = ROOT / "src" / Path(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Error") or any(
                    getattr(b, "id", None) == "Exception" for b in node.bases)):
                assert module == "synthrec.errors", f"{module} defines {node.name}; error classes live in errors.py"


def test_the_stage_table_agrees_with_the_writers():
    from synthrec.filter.run import SCORES_FILE, SELECTION_FILE, SUMMARY_FILE
    from synthrec.generate.manifest import IMAGES_DIR, MANIFEST_DIR
    from synthrec.generate.runfolder import PLAN_FILE
    from synthrec.stages import STAGES, get_stage
    from synthrec.train.head import CONFIG_FILE, WEIGHTS_FILE
    from synthrec.train.trainer import TRAIN_FILE
    from synthrec.train.tune import TOWER_FILE

    assert dict(get_stage("filter").files) == {"scores": SCORES_FILE, "selection": SELECTION_FILE,
                                               "summary": SUMMARY_FILE}
    assert dict(get_stage("train").files) == {"head": WEIGHTS_FILE, "head_meta": CONFIG_FILE, "log": TRAIN_FILE,
                                              "tower": TOWER_FILE}
    assert dict(get_stage("generate").files) == {"plan": PLAN_FILE, "manifest": MANIFEST_DIR, "images": IMAGES_DIR}
    names = [s.name for s in STAGES]
    for stage in STAGES:
        assert all(names.index(u) < names.index(stage.name) for u in stage.upstream), stage.name
        module, _, func = stage.runner.partition(":")
        assert callable(getattr(importlib.import_module(module), func)), stage.runner


def test_speed_only_settings_stay_out_of_every_generation_key(tmp_path):
    from synthrec.config import load_config
    from synthrec.context import RunContext
    from synthrec.stages import GENERATE_SPEED_ONLY, stage_keys

    base = {"run_dir": str(tmp_path / "r"), "labels": {"names": ["a", "b"]}, "generate": {"generator": "glyph"}}
    key = stage_keys(RunContext(load_config(data=base)))["generate"][0]
    for field, value in [("compile", True), ("channels_last", True), ("batch_size", 3), ("device", "cpu"),
                         ("num_workers", 2)]:
        assert field in GENERATE_SPEED_ONLY
        other = load_config(data={**base, "generate": {"generator": "glyph", field: value}})
        assert stage_keys(RunContext(other))["generate"][0] == key, field
    other = load_config(data={**base, "generate": {"generator": "glyph", "steps": 7}})
    assert stage_keys(RunContext(other))["generate"][0] != key


def test_package_data_ships_models_cards_and_configs_but_not_training_logs():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["synthrec"]
    pkg = ROOT / "src" / "synthrec"
    shipped = {p for pattern in data for p in pkg.glob(pattern) if p.is_file()}
    for pattern in data:
        assert any(p.is_file() for p in pkg.glob(pattern)), f"package-data {pattern!r} matches no file"
    for name in ("clip", "pipeline", "le"):
        assert pkg / "glyph" / "weights" / name / "README.md" in shipped  # the model card
    assert any(p.suffix == ".safetensors" for p in shipped) and pkg / "configs" / "demo.yaml" in shipped
    assert not [p for p in shipped if "logs" in p.parts or p.suffix in (".png", ".log")]


def test_every_command_group_is_registered():
    import typer.main

    from synthrec.cli.app import app
    from synthrec.stages import STAGES

    click_app = typer.main.get_command(app)
    expected = {"run", "report", "demo", "datasets", "glyph"} | {s.name for s in STAGES if s.keyed and s.help}
    assert expected <= set(click_app.commands)


def test_derived_seeds_keep_their_values():
    import hashlib

    from synthrec.fewshot.strategies import train_seed
    from synthrec.generate import derive_seed
    from synthrec.prompts import derive_seed as le_seed

    def top63(text: str) -> int:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1

    assert derive_seed(7, 1, 2, 3) == top63("synthrec/seed/v1:7:1:2:3")
    assert train_seed(0, 4, 1, "RG") == top63("synthrec/fewshot/train/v1:0:4:1:RG")
    low63 = int.from_bytes(hashlib.sha256(b"5/le/3").digest()[:8], "big") & (2**63 - 1)
    assert le_seed(5, "le", 3) == low63


def test_reports_draw_the_threshold_the_filter_applied(tmp_path):
    from synthrec import _io
    from synthrec.report.filter_scores import applied_threshold
    from synthrec.stages import stage_file

    assert applied_threshold(tmp_path) is None  # no filter output yet
    _io.write_json(stage_file(tmp_path, "filter", "summary"), {"enabled": True, "threshold": 0.3})
    assert applied_threshold(tmp_path) == 0.3
    _io.write_json(stage_file(tmp_path, "filter", "summary"), {"enabled": False, "threshold": None})
    assert applied_threshold(tmp_path) is None
