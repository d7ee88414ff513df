"""``synthrec predict RUN_DIR IMAGES...``: class names for image files, from a finished run's classifier."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from .common import friendly_errors, setup_logging


@friendly_errors
def predict_command(
        run_dir: Path = typer.Argument(..., metavar="RUN_DIR", show_default=False,
                                       help="a finished run folder (or its train/ folder, or a head.safetensors)"),
        images: List[Path] = typer.Argument(..., metavar="IMAGES...", show_default=False, help="image files"),
        top: int = typer.Option(1, "--top", "-k", min=1, metavar="K", help="print the K most likely classes"),
        as_json: bool = typer.Option(False, "--json", help="one JSON document on stdout (for jq and scripts)"),
        encoder: Optional[str] = typer.Option(None, "--encoder", metavar="SPEC",
                                              help="load the encoder from here instead (it must be the same model)"),
        device: str = typer.Option("auto", "--device", metavar="DEVICE", help="auto | cpu | cuda | cuda:N")):
    """Classify images with the head a run trained (on the encoder it was trained with)."""
    setup_logging()
    from ..classifier import load_classifier

    clf = load_classifier(run_dir, encoder=encoder, device=device)
    ranked = clf.top_k(images, k=top)
    if as_json:
        doc = [{"image": str(path), "class": pairs[0][0],
                "top": [{"class": name, "probability": round(p, 6)} for name, p in pairs]}
               for path, pairs in zip(images, ranked)]
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    for path, pairs in zip(images, ranked):
        typer.echo(f"{path}\t" + "\t".join(f"{name} {p:.3f}" for name, p in pairs))


def register(app: typer.Typer) -> None:
    app.command(name="predict")(predict_command)
