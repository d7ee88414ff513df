"""Issue 13, item 11: kill -9 a generation and a whole `synthrec run` at 20 random moments each, resume each time,
and compare every finished folder with an uninterrupted run's, byte for byte.

Slow (tens of minutes): run with ``pytest -m campaign -s tests/pipeline/test_crash_campaign.py`` to see the counts
(kills by the phase they landed in, folders and files compared, mismatches), one line per kill as it goes.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
KILLS = 20
# Files that may differ between two correct runs: timestamps in stage markers, the training's timings (train.json;
# the head itself is compared), the absolute paths in the report and the config copy, lock owner info.
VOLATILE = ("stage.json", "stage.pending.json", "train.json", "config.yaml", ".synthrec.lock", ".workers.lock")


def _outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in VOLATILE and "report" not in p.relative_to(root).parts}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def _phase(folder: Path, reference_root: Path) -> str:
    """Where a kill landed, read from what the folder holds just before it: start-up (nothing written yet), a
    generation with k of n shards written, or the first stage of a whole run still without its marker."""
    from synthrec.stages.registry import STAGES

    def generation(gen_dir: Path, reference_dir: Path) -> str:
        if not (gen_dir / "plan.json").is_file():
            return "start-up" if gen_dir == folder else "generate (planning)"
        done, planned = (len(list((d / "manifest").glob("*.parquet"))) for d in (gen_dir, reference_dir))
        return f"generate ({done}/{planned} shards)"

    if (reference_root / "plan.json").is_file():  # a generation folder
        return generation(folder, reference_root)
    if not folder.is_dir() or not any(p.is_dir() for p in folder.iterdir()):
        return "start-up"
    for stage in STAGES:
        if (reference_root / stage.name / "stage.json").is_file() and not (folder / stage.name / "stage.json").is_file():
            return generation(folder / "generate", reference_root / "generate") if stage.name == "generate" \
                else stage.name
    return "after the last marker (report)"


def _campaign(make_cmd, root: Path, reference_root: Path, duration: float, seed: int) -> dict:
    """KILLS kill -9s, two per fresh folder: the first at a moment spread evenly over an uninterrupted run's time
    (kill moments stratified, so every stage gets its share instead of most kills landing in the start-up), the
    second at a random moment of the resume that follows (a crash while recovering from a crash). One more resume
    then finishes the folder, which must equal the reference byte for byte, with no temporary file left.

    ``duration`` is the reference run's time; a fresh attempt that finishes unkilled in less time shortens it (a
    reference slowed by a busy machine would otherwise let most attempts finish before their kill)."""
    reference = _outputs(reference_root)
    rng = random.Random(seed)
    slots = max(1, KILLS // 2)
    counts = {"kills": 0, "attempts": 0, "finished_before_kill": 0, "folders_checked": 0, "files_compared": 0,
              "mismatches": 0, "kills_by_phase": {}}
    t0 = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    stderr_file = root / "attempt.stderr"

    def attempt(folder: Path, kill_after: float) -> bool:
        """Run once, kill -9 after ``kill_after`` seconds; True if the kill landed before the run finished."""
        counts["attempts"] += 1
        # A new session: its workers are not killed with it, they must notice the parent's death by themselves.
        # stderr goes to a file: a pipe nobody reads would stall a chatty run until its kill.
        with open(stderr_file, "wb") as err_fh:
            proc = subprocess.Popen(make_cmd(folder, counts["attempts"]), env=_env(), stdout=subprocess.DEVNULL,
                                    stderr=err_fh, start_new_session=True)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            phase = _phase(folder, reference_root)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            counts["kills"] += 1
            counts["kills_by_phase"][phase] = counts["kills_by_phase"].get(phase, 0) + 1
            print(f"  kill {counts['kills']} at {kill_after:.1f} s, in {phase} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
            return True
        assert proc.returncode == 0, stderr_file.read_text(errors="replace")[-3000:]
        counts["finished_before_kill"] += 1
        return False

    def check(folder: Path) -> None:
        got = _outputs(folder)
        assert sorted(got) == sorted(reference), f"{folder}: files differ; so far {counts}"
        differing = [k for k in reference if reference[k] != got[k]]
        counts["mismatches"] += len(differing)
        assert differing == [], f"{folder}: contents differ in {differing[:5]}; so far {counts}"
        assert not list(folder.rglob("*.tmp")), f"{folder}: temporary files left"
        counts["folders_checked"] += 1
        counts["files_compared"] += len(reference)

    first_kills = 0
    while counts["kills"] < KILLS:
        folder = root / str(counts["folders_checked"])
        slot = first_kills % slots
        kill_after = max(0.2, (slot + rng.random()) / slots * duration)
        started = time.perf_counter()
        if attempt(folder, kill_after):
            first_kills += 1
            if counts["kills"] < KILLS:
                attempt(folder, rng.uniform(0.2, duration))
            _finish(make_cmd(folder, 0))
        else:
            duration = min(duration, time.perf_counter() - started)
        check(folder)
        print(f"  folder {folder.name} matches the reference ({time.perf_counter() - t0:.0f} s)", flush=True)
    counts["kill_window_s"] = round(duration, 1)
    return counts


def _finish(cmd: list[str]) -> None:
    res = subprocess.run(cmd, check=False, env=_env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.campaign
@pytest.mark.timeout(1800)
def test_kill_9_generation_20_times_then_resume(tmp_path, tiny_models):
    script = tmp_path / "gen.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import pyarrow as pa
        from synthrec.config.schema import GenerateConfig
        from synthrec.generate import generate
        prompts = pa.table({{"class_id": [0, 0, 1, 2], "prompt_id": [1, 2, 3, 4],
                             "text": ["a cat", "a small cat", "a dog", "a bird"]}})
        cfg = GenerateConfig(generator={tiny_models['sd']!r}, images_per_prompt=6, steps=2, guidance_scale=3.0,
                             height=32, width=32, shard_size=3, batch_size=3, device="cpu",
                             num_workers=int(sys.argv[2]))
        if __name__ == "__main__":
            generate(prompts, cfg, sys.argv[1], run_seed=5, progress=False)
    """))
    t0 = time.perf_counter()
    _finish([sys.executable, str(script), str(tmp_path / "reference"), "1"])
    duration = time.perf_counter() - t0
    # Attempts alternate one and two workers (and which comes first, folder by folder): a resume must not depend on
    # how the earlier attempt ran.
    counts = _campaign(lambda folder, i: [sys.executable, str(script), str(folder), str(1 + (i + int(folder.name)) % 2)],
                       tmp_path / "crashed", tmp_path / "reference", duration, seed=13)
    print(f"\ngeneration crash campaign: {counts}; uninterrupted run {duration:.1f} s")


@pytest.mark.slow
@pytest.mark.campaign
@pytest.mark.timeout(3600)
def test_kill_9_whole_run_20_times_then_resume(tmp_path, write_config):
    cli = [sys.executable, "-m", "synthrec.cli.app", "run"]
    t0 = time.perf_counter()
    _finish(cli + [str(write_config(tmp_path / "reference.yaml", tmp_path / "reference"))])
    duration = time.perf_counter() - t0

    def command(folder: Path, attempt: int) -> list[str]:
        cfg = tmp_path / f"{folder.name}.yaml"
        if not cfg.exists():
            write_config(cfg, folder)
        return cli + [str(cfg)]

    counts = _campaign(command, tmp_path / "crashed", tmp_path / "reference", duration, seed=11)
    print(f"\nrun crash campaign: {counts}; uninterrupted run {duration:.1f} s")
