"""One progress bar for all executors: counts images, so resumed and multi-worker runs read the same."""
from __future__ import annotations


def image_bar(total: int, enabled: bool, desc: str = "generate"):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="img", desc=desc, disable=not enabled, dynamic_ncols=True)
