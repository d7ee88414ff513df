"""Two arms of one benchmark, each in its own Python process: this checkout's code and the code as it was before a
change (exported from git), run side by side and alternated in one run, so a "before" is measured, never stored.

A process per measurement also keeps arms from sharing warm caches, imports or allocator state, and lets a
benchmark read a process's own peak memory. Without git history (a shallow copy), the "before" arm is skipped and
the benchmark says so.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# main as issue 15 (speed) found it: report writing, the filter's decode path, start-up and tuning memory as filed.
BEFORE_REF = "32cb4ab"
_exported: dict[str, Path | None] = {}


def current_src() -> Path:
    return REPO / "src"


def before_src(ref: str = BEFORE_REF) -> Path | None:
    """``src/`` of ``ref``, exported once per process into a temporary folder; None without git or that commit."""
    if ref not in _exported:
        folder = Path(tempfile.mkdtemp(prefix=f"synthrec-{ref}-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        try:
            archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "src"],
                                     capture_output=True, check=True).stdout
            archive_path = folder / "src.tar"
            archive_path.write_bytes(archive)
            with tarfile.open(archive_path) as tar:
                tar.extractall(folder, filter="data")
            archive_path.unlink()
            _exported[ref] = folder / "src"
        except (OSError, subprocess.CalledProcessError):
            _exported[ref] = None
    return _exported[ref]


def run_python(src: Path, code: str, *args: str, timeout: float = 900, env: dict | None = None) -> dict:
    """Run ``code`` with ``src`` first on the import path; it prints one JSON object last, which is returned."""
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
                "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark arm failed ({src}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# The console script's entry point (pyproject.toml: synthrec = "synthrec.cli.app:main"), called as the script does.
CLI_ENTRY = "import sys; from synthrec.cli.app import main; sys.argv[0] = 'synthrec'; sys.exit(main())"


def run_cli(src: Path, *args: str) -> float:
    """``synthrec ARGS`` with ``src`` on the import path, in a fresh interpreter as a user runs it; wall seconds."""
    import time

    env = {**os.environ, "PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", CLI_ENTRY, *args], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    return time.perf_counter() - t0


def median(values) -> float:
    return statistics.median(values)
