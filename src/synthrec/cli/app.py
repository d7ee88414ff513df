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

import typer

from . import datasets, demo, glyph, pretrain, stages, transfer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Image classifiers from a label space, trained on synthetic data from text-to-image models.")

COMMAND_MODULES = (stages, pretrain, transfer, demo, datasets, glyph)
for _module in COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    sys.exit(main())
