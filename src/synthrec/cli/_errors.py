"""The one place where library errors become a single line on stderr and a non-zero exit."""
from __future__ import annotations

import errno
import functools
import os
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
