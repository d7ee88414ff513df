"""What every command module shares: the one place where library errors become a single line on stderr and a
non-zero exit (:func:`friendly_errors`), logging setup, and the options stage commands take."""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Callable, List, Optional

import typer

from ..errors import SynthrecError


def friendly_errors(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SynthrecError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.secho("interrupted: finished work is kept; run the same command again to resume", fg="yellow",
                        err=True)
            raise typer.Exit(130) from None
    return wrapper


def setup_logging(verbose: bool = False) -> None:
    from rich.logging import RichHandler

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(show_path=False, show_time=False, markup=False)], force=True)
    for noisy in ("httpx", "urllib3", "filelock", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


ConfigArg = typer.Argument(..., help="the run's YAML config", show_default=False)
SetOpt = typer.Option(None, "--set", "-s", help="override a config value: section.key=value (repeatable)")
OverwriteOpt = typer.Option(False, "--overwrite", help="discard output made by a different config in the run folder")
DatasetOpt = typer.Option(None, "--dataset", "-d", help="a built-in dataset as the label space and test set "
                          "(see `synthrec datasets list`)")
VerboseOpt = typer.Option(False, "--verbose", "-v")


def load(config: Path, overrides: Optional[List[str]], dataset: Optional[str] = None):
    from ..config import load_config

    return load_config(config, overrides or [], dataset=dataset)
