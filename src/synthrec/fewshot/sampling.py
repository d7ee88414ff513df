"""Seeded, class-balanced k-shot draws from a real training set (METHOD.md §3.1).

Each class gets its own permutation, drawn from ``(seed, class_id)``: the first k of it are the k shots. So the
draw of one class does not depend on the other classes, smaller draws are prefixes of larger ones (the 1-shot set
is inside the 2-shot set of the same seed), and a shot that turns out undecodable can be replaced by the next image
of the same permutation without disturbing anything else. CoOp's draws are not nested: Dassl's
``generate_fewshot_dataset`` calls ``random.sample(items, k)`` per class from one global RNG, afresh for each k.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Hashable, Sequence, TypeVar

import numpy as np

from .. import _io
from ..errors import DataError

T = TypeVar("T")


def class_orders(labels: Sequence[int], seed: int, ids: Sequence[Hashable] | None = None,
                 num_classes: int | None = None) -> dict[int, list[int]]:
    """Every index of every class, in the seeded order shots are taken from.

    With ``ids`` the order depends on the ids, not on where an item sits in ``labels``: a folder listed in another
    order (another file system, another machine) gives the same shots.
    """
    labels = [int(y) for y in labels]
    if ids is not None and len(ids) != len(labels):
        raise DataError(f"{len(ids)} ids for {len(labels)} labels", "pass one id per real image")
    if any(y < 0 for y in labels):
        raise DataError("a real image has a negative class id", "label real images with ids 0..N-1")
    n = num_classes if num_classes is not None else (max(labels) + 1 if labels else 0)
    by_class: dict[int, list[int]] = {c: [] for c in range(n)}
    for i, y in enumerate(labels):
        if y >= n:
            raise DataError(f"a real image has class id {y} but the label space has {n} classes",
                            "use a real training set with the same classes as the label space")
        by_class[y].append(i)
    out = {}
    for c, members in by_class.items():
        if ids is not None:
            members = sorted(members, key=lambda i: str(ids[i]))
        rng = np.random.default_rng([int(seed), c])
        out[c] = [members[j] for j in rng.permutation(len(members))]
    return out


def sample_shots(labels: Sequence[int], k: int, seed: int, ids: Sequence[Hashable] | None = None,
                 num_classes: int | None = None, classnames: Sequence[str] | None = None) -> dict[int, list[int]]:
    """``{class_id: [index into labels, ...]}`` with exactly ``k`` indices per class; the same seed gives the same
    shots. ``num_classes`` (default: the largest label + 1) makes a class without any image an error."""
    if k < 1:
        raise DataError(f"{k} shots per class were asked for", "use k >= 1")
    orders = class_orders(labels, seed, ids, num_classes)
    _check_counts({c: len(o) for c, o in orders.items()}, k, classnames)
    return {c: o[:k] for c, o in orders.items()}


def draw_decodable(orders: dict[int, list[int]], k: int, decode: Callable[[int], T], *, skip_corrupt: bool,
                   describe: Callable[[int], str] = str, classnames: Sequence[str] | None = None
                   ) -> dict[int, list[tuple[int, T]]]:
    """The first k images of each class's order that decode: a bad one is an error, or with ``skip_corrupt`` it is
    skipped and the next image of the same class's order takes its place (still deterministic)."""
    _check_counts({c: len(o) for c, o in orders.items()}, k, classnames)
    out: dict[int, list[tuple[int, T]]] = {}
    for c, order in orders.items():
        got: list[tuple[int, T]] = []
        skipped = []
        for i in order:
            if len(got) == k:
                break
            try:
                got.append((i, decode(i)))
            except Exception as exc:  # any decoder failure (PIL, OSError, truncated file) means the same thing here
                if not skip_corrupt:
                    raise DataError(f"real image {describe(i)} cannot be decoded ({_one_line(exc)})",
                                    "replace or delete the file, or set fewshot.skip_corrupt: true") from None
                skipped.append(describe(i))
        if len(got) < k:
            raise DataError(f"class {_name(c, classnames)} has only {len(got)} decodable real images but {k} shots "
                            f"were asked for (undecodable: {', '.join(skipped[:3])})",
                            f"add images to that class, or lower fewshot.shots to at most {len(got)}")
        out[c] = got
    return out


def _check_counts(counts: dict[int, int], k: int, classnames: Sequence[str] | None) -> None:
    empty = [c for c, n in counts.items() if n == 0]
    if empty:
        names = ", ".join(_name(c, classnames) for c in empty[:5])
        raise DataError(f"class {names} has no real images in the few-shot training set",
                        "add real images for every class, or point fewshot at a set that has all classes")
    short = {c: n for c, n in counts.items() if n < k}
    if short:
        c = min(short, key=short.get)
        raise DataError(f"class {_name(c, classnames)} has {short[c]} real images but {k} shots per class were asked "
                        f"for", f"lower fewshot.shots to at most {min(short.values())}, or add real images")


def _name(c: int, classnames: Sequence[str] | None) -> str:
    return f"{c} ({classnames[c]!r})" if classnames is not None and c < len(classnames) else str(c)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def shots_file(out_dir: str | Path, k: int, seed: int) -> Path:
    return Path(out_dir) / f"shots-k{k}-seed{seed}.json"


def write_shots(out_dir: str | Path, k: int, seed: int, shots: dict[int, list[int]], ids: Sequence[Hashable],
                classnames: Sequence[str] | None = None, sha256: dict[int, str] | None = None,
                files: dict[int, str] | None = None) -> Path:
    """The chosen shots as a JSON list, one entry per image: class, position in the real set, its id (file path or
    dataset index) and, when known, the sha256 of its decoded pixels and the file Real Guidance read it from."""
    entries = []
    for c in sorted(shots):
        for i in shots[c]:
            e = {"class_id": int(c), "index": int(i), "id": _jsonable(ids[i])}
            if classnames is not None:
                e["class_name"] = classnames[c]
            if sha256 and i in sha256:
                e["sha256"] = sha256[i]
            if files and i in files:
                e["file"] = str(files[i])
            entries.append(e)
    path = shots_file(out_dir, k, seed)
    _io.write_json(path, {"k": k, "seed": seed, "shots": entries})
    return path


def _jsonable(x):
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if isinstance(x, Path):
        return str(x)
    if hasattr(x, "item"):
        return x.item()
    return str(x)
