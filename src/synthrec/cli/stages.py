"""``synthrec run``, one command per stage (``synthrec filter CONFIG`` ...) and ``synthrec report``."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..stages import STAGES
from .common import ConfigArg, DatasetOpt, OverwriteOpt, SetOpt, VerboseOpt, friendly_errors, load, setup_logging

def run(config: Path = ConfigArg, set_: Optional[List[str]] = SetOpt, overwrite: bool = OverwriteOpt,
        dataset: Optional[str] = DatasetOpt, verbose: bool = VerboseOpt):
    """Run every stage of CONFIG; finished stages are reused, changed ones run again."""
    setup_logging(verbose)
    from .. import api

    result = api.run(load(config, set_, dataset), overwrite=overwrite)
    typer.echo(f"report: {result['report']}")


def _stage_command(name: str, doc: str):
    def command(config: Path = ConfigArg, set_: Optional[List[str]] = SetOpt, overwrite: bool = OverwriteOpt,
                dataset: Optional[str] = DatasetOpt, verbose: bool = VerboseOpt):
        setup_logging(verbose)
        from .. import api

        out = api.run(load(config, set_, dataset), overwrite=overwrite, only=name)
        typer.echo(f"{name}: {out[name]}")

    command.__doc__ = doc
    command.__name__ = name
    return friendly_errors(command)


def report(target: Path = typer.Argument(..., help="a run folder, or a config whose run folder to report"),
           verbose: bool = VerboseOpt):
    """Write report.html and report.md for a run folder."""
    setup_logging(verbose)
    from .. import api

    path = api.run_report(target)
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(run))
    for stage in STAGES:  # every keyed stage with a help line gets its own command
        if stage.keyed and stage.help:
            app.command(name=stage.name)(_stage_command(stage.name, stage.help))
    app.command()(friendly_errors(report))
