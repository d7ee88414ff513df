"""``synthrec check CONFIG``: every model id, dataset, folder and output path of a config, before any work."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import friendly_errors, setup_logging


@friendly_errors
def check_command(
        config: Path = typer.Argument(..., metavar="CONFIG", help="the run's YAML config", show_default=False),
        set_: Optional[List[str]] = typer.Option(None, "--set", "-s", metavar="KEY=VALUE",
                                                 help="override a config value: section.key=value (repeatable)"),
        dataset: Optional[str] = typer.Option(None, "--dataset", "-d", metavar="NAME",
                                              help="a built-in dataset as the label space and test set")):
    """Check CONFIG without generating anything: all problems at once, one line each with its fix."""
    setup_logging()
    from ..check import check_config
    from ..config import load_config

    cfg = load_config(config, set_ or [], dataset=dataset)
    problems = check_config(cfg)
    for problem in problems:
        typer.secho(f"error: {problem}", fg="red", err=True)
    if problems:
        typer.secho(f"{len(problems)} problem(s) in {config}; nothing was run", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {config} is ready to run")


def register(app: typer.Typer) -> None:
    app.command(name="check")(check_command)
