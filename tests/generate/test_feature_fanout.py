"""Feature encoding through the generation executors: workers fill the feature cache shard by shard, and the filter
then finds every feature there (nothing encoded twice, the same numbers as encoding in one process)."""
from __future__ import annotations

import pytest
import torch


@pytest.mark.slow  # spawns two workers that each import torch and open_clip
@pytest.mark.timeout(900)
def test_local_workers_fill_the_cache_the_filter_reads(tmp_path, prompts, make_cfg, tiny_generator):
    from synthrec.generate.items import generated_items
    from synthrec.features.cache import encode_items
    from synthrec.features.encoders import create_encoder
    from synthrec.generate.encode_features import fill_feature_cache
    from synthrec.features import cache_items
    from synthrec.generate import generate
    from synthrec.testing.tiny_clip import build_tiny_open_clip

    spec = build_tiny_open_clip(tmp_path / "clip")
    gen = tmp_path / "gen"
    generate(prompts, make_cfg(), gen, run_seed=3, generator=tiny_generator, progress=False)
    items = cache_items(generated_items(gen))

    n = fill_feature_cache(gen, spec, tmp_path / "cache", executor="local", num_workers=2, device="cpu",
                         progress=False)
    assert n == 6
    encoder = create_encoder(spec, device="cpu")
    from_workers = encode_items(encoder, items, tmp_path / "cache", progress=False)
    assert from_workers.n_encoded == 0  # everything was cached by the workers
    in_process = encode_items(encoder, items, tmp_path / "other-cache", progress=False)
    assert torch.allclose(from_workers.features, in_process.features, atol=1e-6)
