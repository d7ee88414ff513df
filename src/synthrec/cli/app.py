"""The ``synthrec`` command: a thin typer layer over :mod:`synthrec.api`.

Each command group lives in its own module under ``cli/`` with a ``register(app)`` function; a new group is one
more module in :data:`COMMAND_MODULES`. Every module is imported for real: a broken one fails loudly rather than
silently losing its commands. Library code raises :class:`~synthrec.errors.SynthrecError`; ``common.friendly_errors``
is the one place that turns it into a single line on stderr and a non-zero exit, so users never see a traceback for
bad input.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from . import check, datasets, demo, export, glyph, init, predict, pretrain, stages, transfer, verify
from .common import LOG_LEVELS, set_log_level

# Plain click help: rich's help panels print a type after every option, `<bool>` even for flags.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Image classifiers from a label space, trained on synthetic data from text-to-image models.")

COMMAND_MODULES = (init, check, stages, verify, pretrain, transfer, export, predict, demo, datasets, glyph)
for _module in COMMAND_MODULES:
    _module.register(app)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"synthrec {__version__}")
        raise typer.Exit()


def _check_level(value: Optional[str]) -> Optional[str]:
    if value is not None and value.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value.lower() if value else None


@app.callback()
def _global_options(
        version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                     help="print the version and exit"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="only warnings, errors and results"),
        log_level: Optional[str] = typer.Option(None, "--log-level", metavar="LEVEL", callback=_check_level,
                                                help=f"{' | '.join(LOG_LEVELS)} (default info)")):
    """Image classifiers from a label space, trained on synthetic data from text-to-image models.

    Logs go to stderr; stdout holds only each command's result.
    """
    set_log_level(log_level, quiet=quiet)


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    sys.exit(main())
