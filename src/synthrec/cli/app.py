"""The ``synthrec`` command: a thin typer layer over :mod:`synthrec.api`.

Library code raises :class:`~synthrec.errors.SynthrecError`; this module is the one place that turns it into a
single line on stderr and a non-zero exit, so users never see a traceback for bad input.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ._errors import friendly_errors

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Image classifiers from a label space, trained on synthetic data from text-to-image models.")

ConfigArg = typer.Argument(..., help="the run's YAML config", show_default=False)
SetOpt = typer.Option(None, "--set", "-s", help="override a config value: section.key=value (repeatable)")
OverwriteOpt = typer.Option(False, "--overwrite", help="discard output made by a different config in the run folder")
DatasetOpt = typer.Option(None, "--dataset", "-d", help="a built-in dataset as the label space and test set "
                          "(see `synthrec datasets list`)")


def _setup_logging(verbose: bool = False) -> None:
    from rich.logging import RichHandler

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(show_path=False, show_time=False, markup=False)], force=True)
    for noisy in ("httpx", "urllib3", "filelock", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load(config: Path, overrides: Optional[List[str]], dataset: Optional[str] = None):
    from ..config import load_config

    return load_config(config, overrides or [], dataset=dataset)


@app.command()
@friendly_errors
def run(config: Path = ConfigArg, set_: Optional[List[str]] = SetOpt, overwrite: bool = OverwriteOpt,
        dataset: Optional[str] = DatasetOpt, verbose: bool = typer.Option(False, "--verbose", "-v")):
    """Run every stage of CONFIG; finished stages are reused, changed ones run again."""
    _setup_logging(verbose)
    from .. import api

    result = api.run(_load(config, set_, dataset), overwrite=overwrite)
    typer.echo(f"report: {result['report']}")


def _stage_command(name: str, doc: str):
    @friendly_errors
    def command(config: Path = ConfigArg, set_: Optional[List[str]] = SetOpt, overwrite: bool = OverwriteOpt,
                dataset: Optional[str] = DatasetOpt, verbose: bool = typer.Option(False, "--verbose", "-v")):
        _setup_logging(verbose)
        from .. import api

        out = api.run(_load(config, set_, dataset), overwrite=overwrite, only=name)
        typer.echo(f"{name}: {out[name]}")

    command.__doc__ = doc
    command.__name__ = name
    app.command(name=name)(command)


_stage_command("prompts", "Write prompts.parquet for CONFIG's label space (runs the labels stage if needed).")
_stage_command("generate", "Generate images into shards with a Parquet manifest; resumes after a crash.")
_stage_command("filter", "Score generated images with CLIP and select them (scores.parquet, selection.parquet).")
_stage_command("train", "Tune the classifier head on frozen features of the selected images.")
_stage_command("evaluate", "Evaluate the zero-shot baseline and the tuned head on the real test set.")
_stage_command("fewshot", "Run the few-shot setting of CONFIG (k real shots, Real Guidance, mix training).")


@app.command()
@friendly_errors
def report(target: Path = typer.Argument(..., help="a run folder, or a config whose run folder to report"),
           verbose: bool = typer.Option(False, "--verbose", "-v")):
    """Write report.html and report.md for a run folder."""
    _setup_logging(verbose)
    from .. import api

    path = api.run_report(target)
    typer.echo(f"report: {path}")


@app.command()
@friendly_errors
def demo(out: Path = typer.Option(Path("runs/demo"), "--out", help="where the demo writes its runs and report"),
         seeds: int = typer.Option(1, "--seeds", min=1, help="repeat with this many seeds; report mean and spread"),
         quick: bool = typer.Option(False, "--quick", help="a much smaller run, for smoke tests"),
         verbose: bool = typer.Option(False, "--verbose", "-v")):
    """The paper's zero-shot experiment, offline on CPU, on real handwritten digits (the glyph world)."""
    _setup_logging(verbose)
    from ..demo import run_demo

    path = run_demo(out, seeds=seeds, quick=quick)
    typer.echo(f"report: {path}")


def _mount_optional(module: str, name: str, help_: str) -> None:
    import importlib

    try:
        sub = importlib.import_module(module).app
    except (ImportError, AttributeError):
        return
    app.add_typer(sub, name=name, help=help_)


def _register_pretrain_commands() -> None:
    from . import pretrain, transfer

    pretrain.register(app)
    transfer.register(app)


_register_pretrain_commands()
_mount_optional("synthrec.cli.datasets", "datasets", "The paper's benchmark datasets: list, show.")
_mount_optional("synthrec.cli.glyph", "glyph", "The offline glyph world: train its models.")


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    sys.exit(main())
