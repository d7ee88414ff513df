import numpy as np
import pytest
from PIL import Image

from synthrec.testing.tiny_clip import build_tiny_hf_clip, build_tiny_open_clip


@pytest.fixture(scope="session")
def tiny_open_clip(tmp_path_factory) -> str:
    return build_tiny_open_clip(tmp_path_factory.mktemp("models") / "tiny-open-clip")


@pytest.fixture(scope="session")
def tiny_hf_clip(tmp_path_factory) -> str:
    return build_tiny_hf_clip(tmp_path_factory.mktemp("models") / "tiny-hf-clip")


@pytest.fixture(scope="session")
def images() -> list:
    rng = np.random.default_rng(0)
    sizes = [(40, 50), (32, 32), (64, 20), (8, 8)]
    out = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    out.append(Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8), mode="L"))  # greyscale is accepted
    return out
