"""What every command module shares: the one place where library errors become a single line on stderr and a
non-zero exit (:func:`friendly_errors`), logging setup, and the options stage commands take."""
from __future__ import annotations

import errno
import functools
import logging
import os
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
        except OSError as exc:
            line = _os_error_line(exc)
            if line is None:
                raise
            typer.secho(f"error: {line}", fg="red", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.secho("interrupted: finished work is kept; run the same command again to resume", fg="yellow",
                        err=True)
            raise typer.Exit(130) from None
    return wrapper


def _os_error_line(exc: OSError) -> str | None:
    """One line for the file-system errors a user can fix (permissions, a read-only or full disk); None for others,
    which are bugs and keep their traceback."""
    where = f" {exc.filename!r}" if exc.filename else ""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"cannot write{where} ({os.strerror(exc.errno)}). Make the run folder writable, or choose another "
                "run_dir")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full while writing{where}. Free some space and run the same command again; finished work is kept"
    return None
LOG_LEVELS = ("debug", "info", "warning", "error")
_global_level: int | None = None  # from `synthrec --quiet` / `--log-level`, set before any command runs


def set_log_level(level: str | None, quiet: bool = False) -> None:
    """The level every command logs at; ``quiet`` also turns progress bars off (results still go to stdout)."""
    global _global_level
    if quiet:
        import os

        os.environ["TQDM_DISABLE"] = "1"
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
        _global_level = logging.WARNING
    elif level is not None:
        _global_level = getattr(logging, level.upper())


def setup_logging(verbose: bool = False) -> None:
    """Logs go to stderr, so stdout holds only a command's result (`synthrec predict ... --json | jq`)."""
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else (_global_level or logging.INFO)
    handler = RichHandler(console=Console(stderr=True), show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    for noisy in ("httpx", "urllib3", "filelock", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


ConfigArg = typer.Argument(..., metavar="CONFIG", help="the run's YAML config", show_default=False)
SetOpt = typer.Option(None, "--set", "-s", metavar="KEY=VALUE",
                      help="override a config value: section.key=value (repeatable)")
OverwriteOpt = typer.Option(False, "--overwrite", help="discard output made by a different config in the run folder")
DatasetOpt = typer.Option(None, "--dataset", "-d", metavar="NAME", help="a built-in dataset as the label space and test set "
                          "(see `synthrec datasets list`)")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="log debug messages too")


def load(config: Path, overrides: Optional[List[str]], dataset: Optional[str] = None):
    from ..config import load_config

    return load_config(config, overrides or [], dataset=dataset)
