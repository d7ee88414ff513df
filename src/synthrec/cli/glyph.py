"""``synthrec glyph ...``: the offline glyph world's models."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import friendly_errors, setup_logging

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="The offline glyph world: train its models from a seed.")


@app.command()
@friendly_errors
def train(out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: the package's weights)"),
          seed: int = typer.Option(0, "--seed"),
          only: Optional[str] = typer.Option(None, "--only",
                              help="one part: clip, diffusion, writers (fine-tune on many writers), le or cards"),
          quick: bool = typer.Option(False, "--quick", help="tiny models in seconds (a smoke test)")):
    """Reproduce the shipped glyph-world weights (mini CLIP, diffusion pipeline, LE model) from a seed."""
    setup_logging()
    from ..errors import ConfigError
    from ..glyph import training as glyph_train
    from ..glyph.models import WEIGHTS_ROOT

    if only is not None and only not in glyph_train.PARTS:
        raise ConfigError(f"unknown part {only!r}", f"use one of {', '.join(glyph_train.PARTS)}")
    target = out or WEIGHTS_ROOT
    if only:
        info = glyph_train.train_part(only, target, seed=seed, quick=quick)
    else:
        info = glyph_train.train_all(target, seed=seed, quick=quick)
    typer.echo(f"weights: {target}")
    return info


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="glyph", help="The offline glyph world: train its models.")
