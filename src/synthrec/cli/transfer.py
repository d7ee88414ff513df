"""``synthrec transfer CONFIG``: fine-tune scratch, synthetic-pretrained and real-pretrained backbones on a real
dataset and write the transfer table."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import VerboseOpt, friendly_errors, setup_logging
from .pretrain import ConfigArg, SetOpt


def transfer(config: Path = ConfigArg, set_: Optional[List[str]] = SetOpt,
             verbose: bool = VerboseOpt):
    """Fine-tune every init in CONFIG's transfer section at each fraction and seed; finished cells are kept."""
    from ..config import load_pretrain_transfer_config
    from ..report.pretrain import write_setting_report
    from ..transfer.setting import run_transfer_section

    setup_logging(verbose)
    cfg = load_pretrain_transfer_config(config, set_ or [])
    run_transfer_section(cfg.transfer, cfg.run_dir, cfg.seed)
    typer.echo(Path(cfg.run_dir, "transfer", "table.md").read_text(encoding="utf-8").rstrip())
    typer.echo(f"report: {write_setting_report(cfg.run_dir)}")


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(transfer))
