"""The Ray executor on a local CPU Ray cluster: the same shards and manifests as the local executor, and a run
started on one executor finishes on the other, both ways. CI installs ray with the dev extra and runs this with
``pytest -m slow``."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

ray = pytest.importorskip("ray")

from synthrec.generate import generate  # noqa: E402

LOCKS = (".synthrec.lock", ".workers.lock")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in LOCKS}


@pytest.fixture(scope="module")
def ray_cluster():
    # Actors are fresh processes: they must import this checkout's synthrec, with one thread each.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}})
    yield
    ray.shutdown()


@pytest.mark.slow  # Ray starts a cluster and fresh actor processes for each call: minutes on 2 cores
@pytest.mark.timeout(900)
def test_ray_matches_local_and_resumes_both_ways(ray_cluster, tmp_path, prompts, make_cfg):
    local = make_cfg(images_per_prompt=2, shard_size=2, executor="local", num_workers=1)
    on_ray = make_cfg(images_per_prompt=2, shard_size=2, executor="ray", num_workers=2)

    generate(prompts, local, tmp_path / "local", run_seed=3, progress=False)
    reference = _files(tmp_path / "local")

    result = generate(prompts, on_ray, tmp_path / "ray", run_seed=3, progress=False)
    assert result.complete and _files(tmp_path / "ray") == reference

    generate(prompts, local, tmp_path / "local-then-ray", run_seed=3, stop_after_shards=1, progress=False)
    finished = generate(prompts, on_ray, tmp_path / "local-then-ray", run_seed=3, progress=False)
    assert finished.shards_skipped == [0] and finished.shards_made == [1, 2]
    assert _files(tmp_path / "local-then-ray") == reference

    generate(prompts, on_ray, tmp_path / "ray-then-local", run_seed=3, stop_after_shards=2, progress=False)
    finished = generate(prompts, local, tmp_path / "ray-then-local", run_seed=3, progress=False)
    assert finished.shards_made == [2]
    assert _files(tmp_path / "ray-then-local") == reference


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ray_actors_fill_the_feature_cache(ray_cluster, tmp_path, prompts, make_cfg, tiny_generator):
    from synthrec.generate.items import generated_items
    from synthrec.features.cache import encode_items
    from synthrec.features.encoders import create_encoder
    from synthrec.generate.encode_features import fill_feature_cache
    from synthrec.features import cache_items
    from synthrec.testing.tiny_clip import build_tiny_open_clip

    spec = build_tiny_open_clip(tmp_path / "clip")
    generate(prompts, make_cfg(), tmp_path / "gen", run_seed=3, generator=tiny_generator, progress=False)
    assert fill_feature_cache(tmp_path / "gen", spec, tmp_path / "cache", executor="ray", num_workers=2,
                            device="cpu", progress=False) == 6
    result = encode_items(create_encoder(spec, device="cpu"), cache_items(generated_items(tmp_path / "gen")),
                          tmp_path / "cache", progress=False)
    assert result.n_encoded == 0 and bool(torch.isfinite(result.features).all())
