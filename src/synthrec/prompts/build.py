"""The prompts stage: a label space and a strategy in, ``prompts.parquet`` out.

A strategy is a function ``(labels, cfg, seed, device) -> per-class prompts``: one list per class, in class
order, of texts or ``(text, strategy)`` pairs (the pair form records a per-row fallback, e.g. an LE class that
got the basic prompt). Register new ones with ``@STRATEGIES.register("name")``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence, Union

from .. import _io
from .._registry import Registry
from ..errors import DataError, SynthrecError
from ..labels import LabelSpace
from .basic import basic_strategy
from .language_enhancement import le_strategy
from .templates import templates_strategy
from .wordnet import wordnet_strategy

log = logging.getLogger(__name__)

PromptItem = Union[str, tuple[str, str]]
Strategy = Callable[..., Sequence[Sequence[PromptItem]]]

STRATEGIES: Registry[Strategy] = Registry("prompt strategy")
STRATEGIES.add("basic", basic_strategy)
STRATEGIES.add("templates", templates_strategy)
STRATEGIES.add("le", le_strategy)
STRATEGIES.add("wordnet", wordnet_strategy)

COLUMNS = ("class_id", "class_name", "prompt_id", "text", "strategy", "seed")


def _schema():
    import pyarrow as pa

    # class_id is int64 in every table synthrec writes (prompts, manifest, scores, exports), so joins need no cast.
    return pa.schema([("class_id", pa.int64()), ("class_name", pa.string()), ("prompt_id", pa.int64()),
                      ("text", pa.string()), ("strategy", pa.string()), ("seed", pa.int64())])


def build_prompts(labels: LabelSpace, cfg, seed: int, device: str = "auto", strategy: str | None = None):
    """Prompts for every class as a pyarrow Table: class_id, class_name, prompt_id, text, strategy, seed.

    Rows are ordered by class, then by the strategy's order within the class; ``prompt_id`` numbers them from 0
    in that order. ``seed`` is the run seed (randomised strategies derive a seed per class from it), so the same
    config, seed and device give the same table. ``strategy`` overrides ``cfg.strategy`` (for strategies
    registered in :data:`STRATEGIES` beyond the config's choices). ``device`` overrides ``cfg.le.device``.
    """
    import pyarrow as pa

    name = strategy or cfg.strategy
    fn = STRATEGIES.get(name)
    log.info("prompts: strategy %r for %d classes (seed %d)", name, len(labels), seed)
    per_class = fn(labels, cfg, seed, device)
    if len(per_class) != len(labels):
        raise SynthrecError(f"prompt strategy {name!r} returned {len(per_class)} prompt lists for {len(labels)} "
                            "classes", "a strategy must return one list per class, in class order")
    class_ids: list[int] = []
    texts: list[str] = []
    strategies: list[str] = []
    for cid, items in enumerate(per_class):
        if not items:
            raise SynthrecError(f"prompt strategy {name!r} gave no prompt for class {cid} {labels.names[cid]!r}",
                                "every class needs at least one prompt")
        for item in items:
            text, tag = (item, name) if isinstance(item, str) else item
            if not isinstance(text, str) or not text.strip():
                raise SynthrecError(f"prompt strategy {name!r} gave an empty prompt for class {cid} "
                                    f"{labels.names[cid]!r}", "drop empty prompts in the strategy")
            class_ids.append(cid)
            texts.append(text)
            strategies.append(tag)
    n = len(texts)
    table = pa.table({"class_id": pa.array(class_ids, pa.int64()),
                      "class_name": pa.array([labels.names[c] for c in class_ids], pa.string()),
                      "prompt_id": pa.array(range(n), pa.int64()),
                      "text": pa.array(texts, pa.string()), "strategy": pa.array(strategies, pa.string()),
                      "seed": pa.array([seed] * n, pa.int64())}, schema=_schema())
    log.info("prompts: %d prompts, %.1f per class", n, n / len(labels))
    return table


def write_prompts(path: str | Path, table) -> None:
    """Write the prompts table to Parquet atomically (a crash never leaves half a file under ``path``)."""
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise SynthrecError(f"the prompts table lacks column(s) {', '.join(missing)}",
                            "build it with synthrec.prompts.build_prompts")
    _io.write_parquet(path, table.select(list(COLUMNS)).cast(_schema()))


def read_prompts(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise DataError(f"prompts file {str(path)!r} does not exist", "run `synthrec prompts` first")
    try:
        table = _io.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 -- pyarrow raises several types for a damaged file
        raise DataError(f"prompts file {str(path)!r} is not readable Parquet ({type(exc).__name__})",
                        "delete it and run `synthrec prompts` again") from None
    if "class_name" not in table.column_names:  # written before prompts tables named their classes
        import pyarrow as pa

        table = table.append_column("class_name", pa.nulls(table.num_rows, pa.string()))
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"prompts file {str(path)!r} lacks column(s) {', '.join(missing)}",
                        "delete it and run `synthrec prompts` again")
    return table.select(list(COLUMNS)).cast(_schema())
