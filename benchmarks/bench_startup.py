"""Start-up: ``synthrec --help`` and ``synthrec datasets list`` (issue 15, target 3: under 1 s each), and the class
text embeddings of a filter run again, which must load no text model.

Commands run as a user runs them: a fresh interpreter through the console-script entry point, wall time from the
parent, this checkout against the code of ``_arms.BEFORE_REF``, alternated, median of the rounds.
"""
from __future__ import annotations

import tempfile

import _arms

TEXTS = r'''
import json, sys, sys, time
t0 = time.perf_counter()
from synthrec.features import create_encoder
from synthrec.glyph import world
from synthrec.train import zero_shot_weights
import inspect
encoder = create_encoder("glyph", device="cpu")
args = [encoder, list(world.DIGIT_CLASSNAMES), [world.BASIC_PROMPT]]
if "cache_dir" in inspect.signature(zero_shot_weights).parameters:
    args.append(sys.argv[1])
zero_shot_weights(*args)
print(json.dumps({"seconds": time.perf_counter() - t0, "text_model_loaded": "transformers" in sys.modules}))
'''


def run(quick: bool):
    rounds = 5 if quick else 9
    before = _arms.before_src()
    arms = {"after": _arms.current_src(), **({"before": before} if before is not None else {})}
    for name, args in (("startup_help", ("--help",)), ("startup_datasets_list", ("datasets", "list"))):
        _arms.run_cli(_arms.current_src(), *args)  # warm the OS file cache for both arms alike
        seconds = {arm: [] for arm in arms}
        for _ in range(rounds):
            for arm, src in arms.items():
                seconds[arm].append(_arms.run_cli(src, *args))
        after = _arms.median(seconds["after"])
        if "before" in seconds:
            old = _arms.median(seconds["before"])
            yield (f"{name}: {old / after:.2f}x {after:.2f} s vs {old:.2f} s (`synthrec {' '.join(args)}`, fresh "
                   f"process, wall; this checkout vs code of {_arms.BEFORE_REF}; median of {rounds} alternated; "
                   f"target < 1 s)")
        else:
            yield f"{name}: {1.0 / after:.2f}x {after:.2f} s vs 1.00 s target (no {_arms.BEFORE_REF} in history)"

    with tempfile.TemporaryDirectory() as cache:
        _arms.run_python(_arms.current_src(), TEXTS, cache)  # fills the text-embedding cache, as a first filter does
        seconds = {arm: [] for arm in arms}
        loaded = {}
        for _ in range(3):
            for arm, src in arms.items():
                out = _arms.run_python(src, TEXTS, cache)
                seconds[arm].append(out["seconds"])
                loaded[arm] = out["text_model_loaded"]
    after = _arms.median(seconds["after"])
    old = _arms.median(seconds.get("before", [float("nan")]))
    yield (f"refilter_class_texts: {old / after:.2f}x {after:.2f} s vs {old:.2f} s (glyph encoder + zero-shot "
           f"weights of 10 class prompts in a fresh process, cache filled by an earlier run; text model loaded: "
           f"{loaded['after']} vs {loaded.get('before')}; median of 3 alternated)")
