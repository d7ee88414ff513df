"""Language Enhancement on a real AutoModelForSeq2SeqLM (a tiny T5 saved to disk), and its pure parts."""
from __future__ import annotations

import logging
import re

import pytest

from synthrec.config.schema import PromptsConfig
from synthrec.errors import ModelLoadError
from synthrec.labels import LabelSpace
from synthrec.prompts import build_prompts, class_word_pattern, language_enhancement
from synthrec.prompts.language_enhancement import collect_sentences, derive_seed, join_prefix

LABELS = LabelSpace.from_names(["dog", "cat", "tench"])


def le_cfg(model: str, **kw) -> PromptsConfig:
    le = dict(model=model, max_draws=24, batch_size=12, max_new_tokens=40, top_k=50, device="cpu")
    le.update(kw.pop("le", {}))
    return PromptsConfig(strategy="le", per_class=kw.pop("per_class", 6), le=le, **kw)


def test_le_sentences_contain_the_word_are_unique_and_capped(tiny_t5):
    t = build_prompts(LABELS, le_cfg(tiny_t5, le={"require_class_word": True}), seed=0)
    rows = t.to_pylist()
    assert [r["prompt_id"] for r in rows] == list(range(len(rows)))
    assert [r["class_id"] for r in rows] == sorted(r["class_id"] for r in rows)
    for cid, name in enumerate(LABELS.names):
        texts = [r["text"] for r in rows if r["class_id"] == cid]
        assert 1 <= len(texts) <= 6
        assert len(set(texts)) == len(texts)
        assert all(re.search(rf"\b{name}", s, re.IGNORECASE) for s in texts), texts
        assert {r["strategy"] for r in rows if r["class_id"] == cid} == {"le"}


def test_le_is_deterministic_per_seed(tiny_t5):
    cfg = le_cfg(tiny_t5)
    a = build_prompts(LABELS, cfg, seed=0)
    assert build_prompts(LABELS, cfg, seed=0).equals(a)
    b = build_prompts(LABELS, cfg, seed=1)
    assert b["text"].to_pylist() != a["text"].to_pylist()
    assert set(b["seed"].to_pylist()) == {1}


def test_le_class_sentences_do_not_depend_on_other_classes(tiny_t5):
    cfg = le_cfg(tiny_t5)
    a = build_prompts(LABELS, cfg, seed=0).to_pylist()
    b = build_prompts(LabelSpace.from_names(["dog", "cat", "zebra"]), cfg, seed=0).to_pylist()
    for cid in (0, 1):
        assert [r["text"] for r in a if r["class_id"] == cid] == [r["text"] for r in b if r["class_id"] == cid]


def test_le_prefix(tiny_t5):
    t = build_prompts(LABELS, le_cfg(tiny_t5, prefix="a photo of"), seed=0)
    assert all(s.startswith("a photo of ") for s in t["text"].to_pylist())
    plain = build_prompts(LABELS, le_cfg(tiny_t5, prefix=""), seed=0)
    assert t["text"].to_pylist() == [f"a photo of {s}" for s in plain["text"].to_pylist()]


def test_le_default_prefix_is_the_papers_a_photo_of_a(tiny_t5):
    # Paper C.5.1: "the input text of language enhancement strategy is 'a photo of a [SENTENCE]'".
    t = build_prompts(LABELS, le_cfg(tiny_t5), seed=0)
    plain = build_prompts(LABELS, le_cfg(tiny_t5, prefix=""), seed=0)
    assert t["text"].to_pylist() == [join_prefix("a photo of a", s) for s in plain["text"].to_pylist()]


def test_le_keeps_every_sentence_by_default(noise_t5):
    # The paper keeps every sampled sentence, also those that do not name the class.
    t = build_prompts(LABELS, le_cfg(noise_t5), seed=0)
    assert set(t["strategy"].to_pylist()) == {"le"}
    for cid, name in enumerate(LABELS.names):
        texts = [r["text"] for r in t.to_pylist() if r["class_id"] == cid]
        assert len(texts) == 6 and not any(re.search(rf"\b{name}", s) for s in texts)


def test_le_class_word_check_is_opt_in_and_logs_drops_per_class(noise_t5, caplog):
    with caplog.at_level(logging.INFO, logger="synthrec"):
        build_prompts(LABELS, le_cfg(noise_t5, le={"require_class_word": True}), seed=0)
    dropped = [r.getMessage() for r in caplog.records if "class-word check dropped" in r.getMessage()]
    assert len(dropped) == len(LABELS)
    for name, msg in zip(LABELS.names, dropped):
        assert repr(name) in msg and int(re.search(r"dropped (\d+)", msg).group(1)) > 0


def test_le_without_per_class_uses_the_documented_200(noise_t5, caplog):
    cfg = PromptsConfig(strategy="le", le=dict(model=noise_t5, max_draws=12, batch_size=12, max_new_tokens=8,
                                               device="cpu"))
    assert cfg.per_class is None
    with caplog.at_level(logging.WARNING, logger="synthrec"):
        t = build_prompts(LABELS, cfg, seed=0)
    assert any("per_class=200 is more than max_draws=12" in r.getMessage() for r in caplog.records)
    assert set(t["strategy"].to_pylist()) == {"le"} and len(LABELS) <= t.num_rows <= 3 * 12


def test_le_uses_the_label_domain_as_default_prefix(tiny_t5):
    labels = LabelSpace.from_names(["dog", "cat"], domain="a centered satellite photo of")
    t = build_prompts(labels, le_cfg(tiny_t5), seed=0)
    assert all(s.startswith("a centered satellite photo of ") for s in t["text"].to_pylist())


def test_le_model_without_the_word_warns_and_falls_back(noise_t5, caplog):
    with caplog.at_level(logging.WARNING, logger="synthrec"):
        t = build_prompts(LABELS, le_cfg(noise_t5, le={"require_class_word": True}), seed=0)
    assert t["text"].to_pylist() == ["a photo of a dog.", "a photo of a cat.", "a photo of a tench."]
    assert set(t["strategy"].to_pylist()) == {"basic"}
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for name in LABELS.names:
        assert repr(name) in warned


def test_le_short_class_keeps_what_it_found_and_warns(tiny_t5, caplog):
    # 40 unique matching sentences cannot come out of 24 draws.
    with caplog.at_level(logging.WARNING, logger="synthrec"):
        t = build_prompts(LabelSpace.from_names(["dog", "cat"]),
                          le_cfg(tiny_t5, per_class=40, le={"require_class_word": True}), seed=0)
    counts = [t["class_id"].to_pylist().count(c) for c in (0, 1)]
    assert all(1 <= n < 40 for n in counts)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'dog'" in m and "of 40" in m for m in warned)
    assert any("per_class=40 is more than max_draws=24" in m for m in warned)


def test_le_accepts_a_synonym_and_an_input_format(tiny_t5):
    # The model knows "dog", not "hound": feeding it "dog" through input_format gives sentences that name only
    # the synonym, and they must be kept.
    labels = LabelSpace(names=("hound", "kitty"), synonyms=(("dog",), ("cat",)))
    out = language_enhancement(labels, model=tiny_t5, per_class=4, seed=0, max_draws=24, batch_size=12,
                               max_new_tokens=40, input_format="dog", device="cpu", require_class_word=True)
    assert out[0] and all(tag == "le" and re.search(r"\bdog", s) for s, tag in out[0])
    assert all(not re.search("hound", s) for s, _ in out[0])


@pytest.mark.parametrize("model", ["/nonexistent/t5-folder", "no-such-user/no-such-t5-model"])
def test_unknown_model_is_one_line_model_load_error(model):
    cfg = PromptsConfig(strategy="le", per_class=2, le=dict(model=model, device="cpu"))
    with pytest.raises(ModelLoadError) as err:
        build_prompts(LABELS, cfg, seed=0)
    msg = str(err.value)
    assert "\n" not in msg and model in msg and "prompts.le.model" in msg


def test_collect_sentences_dedups_filters_and_stops():
    batches = iter([["a dog", "a dog", "a cat", " a  dog "], ["two dogs", "hotdog stand", "a DOG runs"], ["x"] * 4])
    calls = []

    def draw(n):
        calls.append(n)
        return next(batches)[:n]

    got = collect_sentences(draw, per_class=3, max_draws=10, batch_size=4, pattern=class_word_pattern(["dog"]))
    assert got.sentences == ["a dog", "two dogs", "a DOG runs"]
    assert calls == [4, 4] and got.draws == 8 and got.dropped == 2


def test_collect_sentences_keeps_every_unique_sentence_without_a_pattern():
    batches = iter([["a dog", "a dog", "cars drive on the highway", ""], ["hotdog stand", "x"]])
    got = collect_sentences(lambda n: next(batches)[:n], per_class=3, max_draws=10, batch_size=4)
    assert got.sentences == ["a dog", "cars drive on the highway", "hotdog stand"] and got.dropped == 0


def test_collect_sentences_respects_max_draws():
    calls = []

    def draw(n):
        calls.append(n)
        return ["a cat"] * n

    got = collect_sentences(draw, per_class=5, max_draws=10, batch_size=4, pattern=class_word_pattern(["cat"]))
    assert got.sentences == ["a cat"] and calls == [4, 4, 2] and got.draws == 10


def test_class_word_pattern():
    p = class_word_pattern(["cat"])
    assert p.search("Cats sleep") and p.search("a black cat.") and not p.search("a category") \
        and not p.search("bobcat")
    p = class_word_pattern(["lawn mower", "mower"])
    assert p.search("a red Lawn  Mower on grass") and p.search("an old mower")
    assert class_word_pattern(["St. Bernard"]).search("a St. Bernard in snow")


def test_join_prefix_and_seeds():
    assert join_prefix("a photo of", "A dog runs.") == "a photo of a dog runs."
    assert join_prefix("a photo of ", "NASA rockets") == "a photo of NASA rockets"
    assert join_prefix(None, "A dog") == "A dog"
    assert derive_seed(0, "le", 1) == derive_seed(0, "le", 1) != derive_seed(0, "le", 2)
    assert 0 <= derive_seed(2**40, "le", 5) < 2**63
