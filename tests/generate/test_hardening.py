"""Issue 13: completeness against the plan, bounded planning, the folder lock, orphaned workers, plan-fixed numerics."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synthrec._lock import folder_lock, wait_for_orphans
from synthrec.errors import RunFolderBusyError
from synthrec.generate import generate, read_manifest
from synthrec.generate.plan import WorkPlan, cut_shards, plan_work
from synthrec.generate.verify import check_generation

LOCKS = (".synthrec.lock", ".workers.lock")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in LOCKS}


@pytest.fixture
def made(tmp_path, prompts, make_cfg, tiny_generator):
    out = tmp_path / "gen"
    generate(prompts, make_cfg(), out, run_seed=3, generator=tiny_generator, progress=False)
    return out, _files(out)


# -- 1. completeness is checked against the plan ----------------------------------------------------------------

def test_truncated_shard_is_found_and_remade(made, prompts, make_cfg, tiny_generator):
    out, before = made
    tar = out / "images" / "shard-00001.tar"
    os.truncate(tar, tar.stat().st_size // 2)
    check = check_generation(out, WorkPlan(prompts, 2, 3, 2))
    assert [p.shard_id for p in check.damaged] == [1] and "truncated" in check.damaged[0].problem
    again = generate(prompts, make_cfg(), out, run_seed=3, generator=tiny_generator, progress=False)
    assert again.shards_made == [1] and again.num_images == 6
    assert _files(out) == before


def test_manifest_row_removed_by_hand_is_found_and_remade(made, prompts, make_cfg, tiny_generator):
    out, before = made
    path = out / "manifest" / "shard-00002.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(0, 1), path)
    assert [p.shard_id for p in check_generation(out, WorkPlan(prompts, 2, 3, 2)).damaged] == [2]
    again = generate(prompts, make_cfg(), out, run_seed=3, generator=tiny_generator, progress=False)
    assert again.shards_made == [2] and read_manifest(out).num_rows == 6
    assert _files(out) == before


def test_full_check_finds_a_flipped_byte_and_verify_repair_works(made, prompts, make_cfg, tiny_generator):
    from typer.testing import CliRunner

    from synthrec.cli.app import app

    out, before = made
    tar = out / "images" / "shard-00000.tar"
    data = bytearray(tar.read_bytes())
    data[1000] ^= 0xFF  # same size: only the full check can see it
    tar.write_bytes(bytes(data))
    plan = WorkPlan(prompts, 2, 3, 2)
    assert check_generation(out, plan).ok
    assert [p.shard_id for p in check_generation(out, plan, full=True).damaged] == [0]
    prompts_file = out.parent / "prompts.parquet"
    pq.write_table(prompts, prompts_file)
    runner = CliRunner()
    res = runner.invoke(app, ["verify", str(out), "--prompts", str(prompts_file)])
    assert res.exit_code == 1 and "shard-00000" in res.output and "--repair" in res.output
    res = runner.invoke(app, ["verify", str(out), "--prompts", str(prompts_file), "--repair"])
    assert res.exit_code == 1 and "dropped 1" in res.output
    generate(prompts, make_cfg(), out, run_seed=3, generator=tiny_generator, progress=False)
    res = runner.invoke(app, ["verify", str(out), "--prompts", str(prompts_file)])
    assert res.exit_code == 0 and res.output.startswith("ok: 3 shards, 6 images")
    assert _files(out) == before


# -- 2. the plan is lazy --------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_plan_of_a_trillion_images_costs_memory_of_one_shard(tmp_path, prompts, make_cfg, tiny_generator):
    tracemalloc.start()
    try:
        result = generate(prompts, make_cfg(images_per_prompt=10**12), tmp_path, run_seed=3,
                          generator=tiny_generator, stop_after_shards=1, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.num_units == 3 * 10**12 and result.num_shards == 15 * 10**11 and result.shards_made == [0]
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_lazy_plan_matches_the_listed_plan(prompts):
    from synthrec.generate import RealGuidance

    shots = {0: ["a.png", "b.png"], 1: ["c.png"]}
    for guidance in (None, RealGuidance(shots, strength=0.5)):
        plan = WorkPlan(prompts, 3, 7, 4, guidance=guidance)
        listed = cut_shards(plan_work(prompts, 3, 7, guidance=guidance), 4)
        assert [plan.shard(k) for k in range(plan.num_shards)] == listed


# -- 4. one process per folder --------------------------------------------------------------------------------

def _hold(code: str, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": SRC})
    assert proc.stdout.readline().strip() == b"held"
    return proc


def test_second_process_is_told_who_holds_the_folder_and_a_dead_holder_is_taken_over(tmp_path):
    holder = _hold("""
        import sys, time
        from synthrec._lock import folder_lock
        with folder_lock(sys.argv[1]):
            print("held", flush=True)
            time.sleep(60)
    """, str(tmp_path))
    try:
        with pytest.raises(RunFolderBusyError, match=f"in use by process {holder.pid} on "):
            with folder_lock(tmp_path):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with folder_lock(tmp_path):  # the kernel dropped the dead holder's lock: taken over
        info = json.loads((tmp_path / ".synthrec.lock").read_text())
        assert info["pid"] == os.getpid()


def test_generate_refuses_a_folder_another_process_writes(tmp_path, prompts, make_cfg, tiny_generator):
    holder = _hold("""
        import sys, time
        from synthrec._lock import folder_lock
        with folder_lock(sys.argv[1]):
            print("held", flush=True)
            time.sleep(60)
    """, str(tmp_path))
    try:
        with pytest.raises(RunFolderBusyError):
            generate(prompts, make_cfg(), tmp_path, run_seed=3, generator=tiny_generator, progress=False)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert not (tmp_path / "manifest").exists()


# -- 5. orphaned workers ----------------------------------------------------------------------------------------

def test_a_resume_waits_for_no_orphan_and_refuses_to_run_beside_one(tmp_path):
    orphan = _hold("""
        import sys, time
        from synthrec._lock import hold_as_worker
        hold_as_worker(sys.argv[1])
        print("held", flush=True)
        time.sleep(60)
    """, str(tmp_path))
    try:
        with pytest.raises(RunFolderBusyError, match="worker processes of an earlier run"):
            wait_for_orphans(tmp_path, timeout=1.0)
    finally:
        orphan.send_signal(signal.SIGKILL)
        orphan.wait()
    wait_for_orphans(tmp_path, timeout=1.0)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.timeout(240)
def test_workers_exit_when_their_parent_is_killed(tmp_path, tiny_sd_path):
    script = tmp_path / "gen.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import pyarrow as pa
        from synthrec.config.schema import GenerateConfig
        from synthrec.generate import generate
        prompts = pa.table({{"class_id": [0, 1], "prompt_id": [1, 2], "text": ["a dog", "a cat"]}})
        cfg = GenerateConfig(generator={tiny_sd_path!r}, images_per_prompt=400, steps=2, guidance_scale=3.0,
                             shard_size=2, batch_size=2, device="cpu", num_workers=2)
        if __name__ == "__main__":
            generate(prompts, cfg, sys.argv[1], progress=False)
    """))
    out = tmp_path / "out"
    parent = subprocess.Popen([sys.executable, str(script), str(out)], env={**os.environ, "PYTHONPATH": SRC})
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (len(_children(parent.pid)) >= 2 and (out / "images").is_dir()):
            time.sleep(0.5)
        time.sleep(2)  # the workers are importing torch and loading the model, or already generating
        workers = _children(parent.pid)
        assert workers, "the parent started no worker processes"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.5)
    alive = [w for w in workers if _alive(w)]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"
    wait_for_orphans(out, timeout=1.0)


# -- 6. image bytes do not depend on the batch size or the workers of a resume --------------------------------

def test_a_resume_generates_with_the_plans_micro_batch(tmp_path, prompts, make_cfg, tiny_generator):
    from synthrec.generate.backends.base import Generator

    class Recording(Generator):
        def __init__(self, inner):
            self.inner, self.generator_id, self.settings, self.batches = inner, inner.generator_id, inner.settings, []
            self.device = "cpu"

        def text_to_image(self, prompts, seeds):
            self.batches.append(len(prompts))
            return self.inner.text_to_image(prompts, seeds)

    cfg = make_cfg(images_per_prompt=4, shard_size=4, batch_size=2)
    first = Recording(tiny_generator)
    generate(prompts, cfg, tmp_path, run_seed=3, generator=first, stop_after_shards=1, progress=False)
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["numerics"]["micro_batch"] == 2 and plan["numerics"]["cpu_threads"] >= 1
    second = Recording(tiny_generator)
    generate(prompts, make_cfg(images_per_prompt=4, shard_size=4, batch_size=4), tmp_path, run_seed=3,
             generator=second, progress=False)
    assert first.batches == [2, 2] and second.batches == [2, 2, 2, 2]
