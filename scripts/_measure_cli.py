"""The command line the measurement scripts share: one folder to read, an optional JSON file for the numbers."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse(doc: str, argv: list[str] | None, folder: str = "demo_dir") -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument(folder, type=Path)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    args.folder = getattr(args, folder)
    return args


def missing(what: str, folder: Path, fix: str) -> int:
    """One line naming what is missing and the command that makes it; the exit status for that."""
    print(f"error: no {what} in {folder}; run `{fix}` first", file=sys.stderr)
    return 2


def finish(args: argparse.Namespace, result: dict) -> int:
    if args.json:
        from synthrec import _io

        _io.write_json(args.json, result)
    return 0
