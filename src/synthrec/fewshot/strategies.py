"""How each few-shot strategy trains its head (METHOD.md §3): real shots only, mix training with a synthetic set,
or the phase-wise baselines. An unknown strategy is an error, never a silent default."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..errors import ConfigError, NoSyntheticDataError
from ..seeds import seed_from_text
from .adapted import ADAPTED, adapted_set
from .mix import Features, TuneResult, phase_wise, tune

if TYPE_CHECKING:
    from .real import Shots
    from .synthetic import SynSet

# Which synthetic set each strategy trains with (None: the real shots alone).
SYNTHETIC_SET: dict[str, Callable[["FewShotRun", "Shots"], "SynSet"] | None] = {
    "none": None,
    "B": lambda run, shots: run.synthetic.basic(),
    "RF": lambda run, shots: run.synthetic.real_filtered(shots),
    "RG": lambda run, shots: run.synthetic.real_guidance(shots),
    "phase_syn_real": lambda run, shots: run.synthetic.real_guidance(shots),  # Table 7 uses the RG set
    "phase_real_syn": lambda run, shots: run.synthetic.real_guidance(shots),
    # the generator adapted to the shots (beyond the paper; fewshot/adapted.py)
    **{s: (lambda run, shots, s=s: adapted_set(run, shots, s)) for s in ADAPTED},
}
STRATEGIES = tuple(SYNTHETIC_SET)


def train_strategy(run: "FewShotRun", strategy: str, shots: "Shots", zs_head) -> tuple[TuneResult, "SynSet | None"]:
    """Tune ``zs_head`` the way ``strategy`` says; returns the result and the synthetic set it used."""
    if strategy not in SYNTHETIC_SET:
        raise ConfigError(f"unknown few-shot strategy {strategy!r}", f"use one of {', '.join(STRATEGIES)}")
    fs, tc = run.fs, run.cfg.train
    real = Features(shots.feats, shots.labels)
    seed = train_seed(run.cfg.seed, shots.k, shots.seed, strategy)
    common = dict(weight_decay=fs.weight_decay, syn_batch_size=fs.syn_batch_size,
                  real_batch_size=fs.real_batch_size, sce_weight=fs.sce_weight, temperature=fs.temperature,
                  grad_clip=tc.grad_clip, device=run.device, progress=run.progress, epochs=fs.epochs)
    make_set = SYNTHETIC_SET[strategy]
    if make_set is None:
        # CT on the shots alone, with CT's lr (the paper's phase-wise real phase uses the same 2e-3).
        return tune(zs_head, real=real, lr=fs.phase_lr, seed=seed, desc="CT w. init", **common), None
    syn_set = make_set(run, shots)
    if len(syn_set.labels) == 0:
        raise NoSyntheticDataError(f"{strategy} left no synthetic images")
    syn = Features(syn_set.feats, syn_set.labels)
    if strategy.startswith("phase_"):
        order = strategy.removeprefix("phase_")
        return phase_wise(zs_head, order, syn=syn, real=real, lr=fs.phase_lr, seed=seed, **common), syn_set
    return tune(zs_head, syn=syn, real=real, lr=fs.lr, seed=seed, desc=f"mix {strategy}", **common), syn_set


def train_seed(run_seed: int, k: int, shot_seed: int, strategy: str) -> int:
    return seed_from_text(f"synthrec/fewshot/train/v1:{int(run_seed)}:{int(k)}:{int(shot_seed)}:{strategy}")
