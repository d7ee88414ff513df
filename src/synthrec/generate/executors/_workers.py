"""What every executor tells the user about its worker count."""
from __future__ import annotations


def fewer_workers_message(asked: int | None, used: int, n_shards: int, passed_generator: bool = False) -> str | None:
    """Why ``used`` workers run when ``asked`` were, as one line with the fix; None when nothing was cut."""
    if not asked or used >= asked:
        return None
    if passed_generator:
        return (f"generate: num_workers {asked} was asked, but a ready generator was passed, so all shards run in "
                "this process; pass none (the workers then load their own) to use several")
    shards = f"{n_shards} shard" + ("s" if n_shards != 1 else "")
    return (f"generate: num_workers {asked} was asked, but only {used} run: there {'is' if n_shards == 1 else 'are'} "
            f"{shards} left to make and a worker makes whole shards; lower generate.shard_size to split the work")
