"""``synthrec export RUN_DIR --format F --out DIR``: the run's images in a format other tools read."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .common import friendly_errors, setup_logging


class ExportFormat(str, Enum):
    imagefolder = "imagefolder"
    webdataset = "webdataset"
    hf = "hf"
    parquet = "parquet"


class ExportSelection(str, Enum):
    filtered = "filtered"
    all = "all"


@friendly_errors
def export_command(
        run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run folder (the run_dir of a config you ran)",
                                       show_default=False),
        format: ExportFormat = typer.Option(..., "--format", "-f", metavar="FORMAT", show_default=False,
                                            help="imagefolder | webdataset | hf | parquet"),
        out: Path = typer.Option(..., "--out", "-o", metavar="DIR", show_default=False,
                                 help="a new or empty folder to write to"),
        selection: ExportSelection = typer.Option(ExportSelection.filtered, "--selection", metavar="WHICH",
                                                  help="filtered (the filter's kept images) | all"),
        shard_size: int = typer.Option(1000, "--shard-size", min=1, metavar="N",
                                       help="webdataset: images per tar shard"),
        push_to_hub: Optional[str] = typer.Option(None, "--push-to-hub", metavar="REPO_ID",
                                                  help="hf: also upload to this Hugging Face dataset repo "
                                                       "(private; needs `huggingface-cli login`)"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace a non-empty --out folder")):
    """Export a run's images with their class names (the filter's selection by default)."""
    setup_logging()
    from ..export import export_run

    if push_to_hub and format is not ExportFormat.hf:
        raise typer.BadParameter("--push-to-hub works with --format hf only", param_hint="--push-to-hub")
    options = {"shard_size": shard_size} if format is ExportFormat.webdataset else {}
    if push_to_hub:
        options["push_to_hub"] = push_to_hub
    result = export_run(run_dir, format.value, out, selection=selection.value, overwrite=overwrite, **options)
    counts = ", ".join(f"{name} {n}" for name, n in result.per_class.items())
    typer.echo(f"{result.out}", nl=True)
    typer.echo(f"exported {result.images} images ({result.selection}) as {result.format}: {counts}", err=True)


def register(app: typer.Typer) -> None:
    app.command(name="export")(export_command)
