"""The one place where library errors become a single line on stderr and a non-zero exit."""
from __future__ import annotations

import functools
from typing import Callable

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
