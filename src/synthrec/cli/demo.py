"""``synthrec demo``: the paper's zero-shot experiment in the offline glyph world."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import VerboseOpt, friendly_errors, setup_logging


def demo(experiment: str = typer.Argument("zero-shot", help="zero-shot (the paper's Table 2) or pretrain "
                                         "(Tables 8-11: synthetic pre-training, then transfer)"),
         out: Optional[Path] = typer.Option(None, "--out", help="where the demo writes its runs and report "
                                            "(default runs/demo, runs/demo-pretrain)"),
         seeds: Optional[int] = typer.Option(None, "--seeds", min=1, help="repeat with this many seeds; report mean "
                                             "and spread (default 1; pretrain: 3)"),
         quick: bool = typer.Option(False, "--quick", help="a much smaller run, for smoke tests"),
         jobs: int = typer.Option(1, "--jobs", min=1, help="pretrain: seeds run at once, one process each"),
         ablations: bool = typer.Option(False, "--ablations", help="also the paper's ablations on seed 0: tuning "
                                        "more than the head (Tables 3, 6) and images per class (Table A.13)"),
         verbose: bool = VerboseOpt):
    """The paper's experiments offline on CPU, on real handwritten digits (the glyph world)."""
    setup_logging(verbose)
    if experiment == "pretrain":
        from ..pretrain.glyph_demo import run_pretrain_demo

        path = run_pretrain_demo(out or Path("runs/demo-pretrain"), seeds=seeds or 3, quick=quick, jobs=jobs)
        typer.echo(f"report: {path}")
        return
    if experiment != "zero-shot":
        from ..errors import ConfigError

        raise ConfigError(f"unknown demo {experiment!r}", "choose zero-shot or pretrain")
    out, seeds = out or Path("runs/demo"), seeds or 1
    from ..demo import run_demo

    path = run_demo(out, seeds=seeds, quick=quick, ablations=ablations)
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(demo))
