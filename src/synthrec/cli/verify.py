"""``synthrec verify RUN_DIR``: check generated images against their plan, byte for byte, and say how to repair."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import friendly_errors


def _generation_folder(target: Path) -> Path:
    from ..errors import RunFolderError
    from ..generate.runfolder import PLAN_FILE

    for folder in (target / "generate", target):
        if (folder / PLAN_FILE).is_file():
            return folder
    raise RunFolderError(f"{str(target)!r} holds no generated images (no generate/{PLAN_FILE})",
                         "pass a run folder whose generate stage has started, or a generate output folder")


def verify(run_dir: Path = typer.Argument(..., help="a run folder (or a generate output folder)"),
           prompts: Optional[Path] = typer.Option(None, "--prompts", help="the prompts.parquet the images were "
                                                  "planned from (default: RUN_DIR/prompts/prompts.parquet)"),
           repair: bool = typer.Option(False, "--repair", help="drop the damaged shards, so the next run remakes "
                                       "them")):
    """Check that every planned image exists exactly once with the bytes its manifest records (reads every byte)."""
    from .._lock import folder_lock
    from ..generate.verify import check_generation, drop_damaged, plan_from_folder

    folder = _generation_folder(run_dir)
    prompts = prompts or (folder.parent / "prompts" / "prompts.parquet")
    plan = plan_from_folder(folder, prompts)
    check = check_generation(folder, plan, full=True)
    if check.ok:
        typer.echo(f"ok: {plan.num_shards} shards, {plan.num_units} images, every byte as the manifests record")
        return
    for problem in check.damaged[:20]:
        typer.echo(f"damaged: {problem}")
    if len(check.damaged) > 20:
        typer.echo(f"damaged: ... and {len(check.damaged) - 20} more shards")
    if check.missing:
        typer.echo(f"missing: {check.missing} of {plan.num_shards} shards are not generated yet")
    if repair:
        with folder_lock(folder.parent if folder.name == "generate" else folder), folder_lock(folder):
            n = drop_damaged(folder, check)
        typer.echo(f"repair: dropped {n} damaged shards; now run `synthrec generate CONFIG` (or `synthrec run "
                   f"CONFIG`) with this run's config to make them again")
    else:
        typer.echo(f"repair: synthrec verify {run_dir} --repair, then `synthrec generate CONFIG` (or `synthrec run "
                   f"CONFIG`) with this run's config")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(verify))
