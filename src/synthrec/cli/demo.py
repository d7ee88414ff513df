"""``synthrec demo``: the paper's zero-shot experiment in the offline glyph world."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import VerboseOpt, friendly_errors, setup_logging


def demo(out: Path = typer.Option(Path("runs/demo"), "--out", help="where the demo writes its runs and report"),
         seeds: int = typer.Option(1, "--seeds", min=1, help="repeat with this many seeds; report mean and spread"),
         quick: bool = typer.Option(False, "--quick", help="a much smaller run, for smoke tests"),
         ablations: bool = typer.Option(False, "--ablations", help="also the paper's ablations on seed 0: tuning "
                                        "more than the head (Tables 3, 6) and images per class (Table A.13)"),
         verbose: bool = VerboseOpt):
    """The paper's zero-shot experiment, offline on CPU, on real handwritten digits (the glyph world)."""
    setup_logging(verbose)
    from ..demo import run_demo

    path = run_demo(out, seeds=seeds, quick=quick, ablations=ablations)
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(demo))
