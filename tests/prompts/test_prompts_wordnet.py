"""WordNet enrichment through nltk on Debian's wordnet-base files, offline."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from synthrec.config.schema import PromptsConfig
from synthrec.errors import DataError
from synthrec.labels import LabelSpace
from synthrec.prompts import build_prompts, open_wordnet, wordnet_available

needs_wordnet = pytest.mark.skipif(
    not wordnet_available(),
    reason="WordNet data not found in /usr/share/wordnet: install it with `sudo apt-get install wordnet-base`")


def texts_of(table, cid):
    return [r["text"] for r in table.to_pylist() if r["class_id"] == cid]


@needs_wordnet
def test_wordnet_dog_and_tench():
    t = build_prompts(LabelSpace.from_names(["dog", "tench"]), PromptsConfig(strategy="wordnet", per_class=50),
                      seed=0)
    dog, tench = texts_of(t, 0), texts_of(t, 1)
    assert dog[0] == "a photo of a dog."
    assert "a photo of a dog, a kind of canine." in dog
    assert "a photo of a dog, a kind of domestic animal." in dog
    assert "a photo of a domestic dog." in dog
    assert any(s.startswith("a photo of a dog, a member of the genus Canis") for s in dog)
    assert "a photo of a puppy, a kind of dog." in dog
    assert tench[:2] == ["a photo of a tench.", "a photo of a tench, a kind of cyprinid."]
    assert "a photo of a Tinca tinca." in tench
    assert len(set(dog)) == len(dog)
    assert set(t["strategy"].to_pylist()) == {"wordnet"}
    assert t["prompt_id"].to_pylist() == list(range(t.num_rows))


@needs_wordnet
def test_wordnet_per_class_cap_prefix_and_determinism():
    labels = LabelSpace.from_names(["dog", "apple"])
    cfg = PromptsConfig(strategy="wordnet", per_class=3, prefix="a drawing of")
    t = build_prompts(labels, cfg, seed=0)
    assert [len(texts_of(t, c)) for c in (0, 1)] == [3, 3]
    assert texts_of(t, 1)[0] == "a drawing of an apple."
    assert build_prompts(labels, cfg, seed=5)["text"].equals(t["text"])


@needs_wordnet
def test_wordnet_unknown_word_falls_back_to_basic(caplog):
    labels = LabelSpace.from_names(["dog", "qzxv blorp"])
    with caplog.at_level(logging.INFO, logger="synthrec"):
        t = build_prompts(labels, PromptsConfig(strategy="wordnet", per_class=2), seed=0)
    assert texts_of(t, 1) == ["a photo of a qzxv blorp."]
    assert t["strategy"].to_pylist()[-1] == "basic"
    assert any("'qzxv blorp' is not in WordNet" in r.getMessage() for r in caplog.records)


@needs_wordnet
def test_wordnet_prompts_do_not_depend_on_the_hash_seed():
    # nltk hands out related synsets in set order; the prompts must not follow it. Compare this process with
    # one that hashes differently.
    code = ("from synthrec.prompts.wordnet import open_wordnet, first_noun_synset, wordnet_prompts as w;"
            "wn = open_wordnet(); print(repr([w(first_noun_synset(wn, n), n, 'a photo of') for n in ('dog', 'car')]))")
    from synthrec.prompts.wordnet import first_noun_synset, wordnet_prompts

    wn = open_wordnet()
    here = [wordnet_prompts(first_noun_synset(wn, n), n, "a photo of") for n in ("dog", "car")]
    hash_seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "4243"
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONHASHSEED=hash_seed),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == repr(here) and len(here[0]) > 10


def test_missing_wordnet_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHREC_WORDNET_DIR", str(tmp_path))
    with pytest.raises(DataError) as err:
        open_wordnet()
    msg = str(err.value)
    assert "\n" not in msg and "apt-get install wordnet-base" in msg and str(tmp_path) in msg
    with pytest.raises(DataError, match="apt-get install wordnet-base"):
        build_prompts(LabelSpace.from_names(["dog", "cat"]), PromptsConfig(strategy="wordnet"), seed=0)
