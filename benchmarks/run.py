"""Run every benchmark and print one ratio line per measurement.

Each ``benchmarks/bench_*.py`` module exposes ``run(quick: bool) -> Iterable[str]`` and yields lines of the form
``NAME: R.RRx <measured> vs <baseline>``, both arms measured side by side in this one run (never a stored number).
``--quick`` uses tiny models on the CPU and finishes in about 6 minutes on 2 cores (the ``demo_one_seed`` line alone
runs the demo twice, about 80 s).

    python benchmarks/run.py --quick            # every benchmark, tiny models, CPU
    python benchmarks/run.py --only filter      # benchmarks whose module name contains "filter"
    python benchmarks/run.py --out lines.txt    # also write the lines to a file (a GPU run quoted in the README)
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(only: str | None = None) -> list[Path]:
    return [p for p in sorted(HERE.glob("bench_*.py")) if only is None or only in p.stem]


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny models on the CPU, about 6 minutes on 2 cores")
    parser.add_argument("--only", default=None, help="run only benchmarks whose module name contains this")
    parser.add_argument("--out", default=None, help="also write the ratio lines to this file")
    args = parser.parse_args(argv)

    paths = discover(args.only)
    if not paths:
        print(f"error: no benchmark matches {args.only!r}. Run without --only to list them all.", file=sys.stderr)
        return 2
    lines, failed = [], []
    total_start = time.perf_counter()
    for path in paths:
        start = time.perf_counter()
        try:
            for line in load(path).run(quick=args.quick):
                print(line, flush=True)
                lines.append(line)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' lines
            traceback.print_exc()
            failed.append(path.stem)
        print(f"# {path.stem} took {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    # The --quick budget (about 6 minutes on 2 cores) is checked from this line, not from a stopwatch beside it.
    print(f"# all benchmarks took {time.perf_counter() - total_start:.1f} s", file=sys.stderr, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    if failed:
        print(f"error: benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
