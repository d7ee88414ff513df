import os

# Tests never reach a model hub: tiny models are built from configs and loaded back from disk.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "2")


import pytest  # noqa: E402


@pytest.fixture
def one_torch_thread():
    """Tiny models gain nothing from a second thread, and on a busy 2-core machine two OpenMP threads spin at every
    barrier (measured: 5-50x slower). Restored afterwards, so other tests keep their setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
