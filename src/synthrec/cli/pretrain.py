"""``synthrec pretrain CONFIG``: make the synthetic set and pre-train a timm backbone (supervised or MoCo v2).

Multi-GPU: ``torchrun --nproc_per_node 8 -m synthrec.cli.pretrain CONFIG`` (each process runs this module;
DDP, one checkpoint from rank 0).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .common import VerboseOpt, friendly_errors, setup_logging

ConfigArg = typer.Argument(..., help="a YAML config with run_dir, seed and a pretrain section", show_default=False)
SetOpt = typer.Option(None, "--set", "-s", help="override a config value: section.key=value (repeatable)")


def pretrain(config: Path = ConfigArg, set_: Optional[List[str]] = SetOpt,
             overwrite: bool = typer.Option(False, "--overwrite", help="discard a set made by other settings"),
             verbose: bool = VerboseOpt):
    """Make CONFIG's synthetic pre-training set and pre-train on it; resumes from the last checkpoint."""
    from ..config import load_pretrain_transfer_config
    from ..report.pretrain import write_setting_report
    from ..transfer.setting import run_pretrain_section

    setup_logging(verbose)
    cfg = load_pretrain_transfer_config(config, set_ or [])
    result = run_pretrain_section(cfg.pretrain, cfg.run_dir, cfg.seed, overwrite=overwrite)
    typer.echo(f"checkpoint: {result['checkpoint']}")
    typer.echo(f"report: {write_setting_report(cfg.run_dir)}")


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(pretrain))


if __name__ == "__main__":  # torchrun entry point
    _app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(_app)
    sys.exit(_app())
