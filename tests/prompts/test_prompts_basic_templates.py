"""Basic and template-set prompts: texts, ids, column types, registries."""
from __future__ import annotations

import pyarrow as pa
import pytest

from synthrec.config.schema import PromptsConfig
from synthrec.errors import ConfigError, SynthrecError
from synthrec.labels import LabelSpace
from synthrec.prompts import (STRATEGIES, build_prompts, get_template_set, list_template_sets,
                              register_template_set)

LABELS = LabelSpace.from_names(["dog", "cat", "tench"])


def test_basic_one_prompt_per_class_with_types_and_ids():
    t = build_prompts(LABELS, PromptsConfig(), seed=7)
    assert t.column_names == ["class_id", "class_name", "prompt_id", "text", "strategy", "seed"]
    assert t.schema.field("class_id").type == pa.int64()
    assert t.schema.field("prompt_id").type == pa.int64()
    assert t.schema.field("seed").type == pa.int64()
    assert t["text"].to_pylist() == ["a photo of a dog.", "a photo of a cat.", "a photo of a tench."]
    assert t["class_id"].to_pylist() == [0, 1, 2]
    assert t["prompt_id"].to_pylist() == [0, 1, 2]
    assert set(t["strategy"].to_pylist()) == {"basic"}
    assert set(t["seed"].to_pylist()) == {7}


def test_basic_per_class_does_not_repeat_the_prompt():
    t = build_prompts(LABELS, PromptsConfig(per_class=5), seed=0)
    assert t.num_rows == 3


def test_basic_domain_words():
    labels = LabelSpace.from_names(["River", "Forest"], domain="a centered satellite photo of")
    t = build_prompts(labels, PromptsConfig(), seed=0)
    assert t["text"].to_pylist() == ["a centered satellite photo of River.", "a centered satellite photo of Forest."]
    t = build_prompts(labels, PromptsConfig(template="{domain} a {c} from above."), seed=0)
    assert t["text"][0].as_py() == "a centered satellite photo of a River from above."
    # An explicit template without {domain} is used as written.
    t = build_prompts(labels, PromptsConfig(template="an aerial image of {c}."), seed=0)
    assert t["text"][0].as_py() == "an aerial image of River."


def test_basic_template_errors():
    with pytest.raises(ConfigError, match=r"no \{c\} slot"):
        build_prompts(LABELS, PromptsConfig(template="a photo."), seed=0)
    with pytest.raises(ConfigError, match="no domain"):
        build_prompts(LABELS, PromptsConfig(template="{domain} {c}."), seed=0)


def test_class_name_with_braces_is_filled_literally():
    labels = LabelSpace.from_names(["a {weird} name", "b"])
    assert build_prompts(labels, PromptsConfig(), seed=0)["text"][0].as_py() == "a photo of a a {weird} name."


def test_named_template_sets_are_the_published_lists():
    i80, i7, cifar = get_template_set("imagenet80"), get_template_set("imagenet7"), get_template_set("cifar")
    assert len(i80) == len(set(i80)) == 80 and len(i7) == 7 and len(cifar) == len(set(cifar)) == 18
    assert set(i7) <= set(i80)
    assert i7[0] == "itap of a {c}." and i7[2] == "a origami {c}."  # CLIP's spelling, selection order
    assert get_template_set("simple") == ["a photo of a {c}."]
    assert len(get_template_set("clip_caltech101")) == 34
    assert get_template_set("paper_eurosat") == ["a centered satellite photo of {c}."]
    assert {"simple", "imagenet80", "imagenet7", "cifar"} <= set(list_template_sets())
    for name in list_template_sets():
        assert all("{c}" in t and "{}" not in t for t in get_template_set(name)), name
    get_template_set("cifar").append("mutated")  # callers get a copy
    assert len(get_template_set("cifar")) == 18


def test_templates_strategy_rows_ordered_by_class_then_template():
    t = build_prompts(LABELS, PromptsConfig(strategy="templates", template_set="imagenet7"), seed=3)
    assert t.num_rows == 21
    assert t["prompt_id"].to_pylist() == list(range(21))
    assert t["class_id"].to_pylist() == [0] * 7 + [1] * 7 + [2] * 7
    assert t["text"].to_pylist()[:2] == ["itap of a dog.", "a bad photo of the dog."]
    assert t["text"][7].as_py() == "itap of a cat."
    assert set(t["strategy"].to_pylist()) == {"templates"}


def test_templates_strategy_errors():
    with pytest.raises(ConfigError, match="template_set is not set"):
        build_prompts(LABELS, PromptsConfig(strategy="templates"), seed=0)
    with pytest.raises(ConfigError, match="unknown template set 'nope'.*imagenet80"):
        build_prompts(LABELS, PromptsConfig(strategy="templates", template_set="nope"), seed=0)


def test_register_template_set():
    register_template_set("test_prompts_custom", ["a {c} on a table.", "a {c} in a box."])
    t = build_prompts(LABELS, PromptsConfig(strategy="templates", template_set="test_prompts_custom"), seed=0)
    assert t["text"].to_pylist()[:2] == ["a dog on a table.", "a dog in a box."]
    with pytest.raises(ValueError, match="registered twice"):
        register_template_set("simple", ["a {c}."])
    with pytest.raises(ConfigError, match=r"no \{c\} slot"):
        register_template_set("test_prompts_bad", ["a photo of {}."])


def test_custom_strategy_through_the_registry():
    @STRATEGIES.register("test_prompts_upper")
    def upper(labels, cfg, seed, device):
        return [[n.upper(), (f"{n}!", "test_prompts_upper/loud")] for n in labels.names]

    t = build_prompts(LABELS, PromptsConfig(), seed=0, strategy="test_prompts_upper")
    assert t["text"].to_pylist()[:2] == ["DOG", "dog!"]
    assert t["strategy"].to_pylist()[:2] == ["test_prompts_upper", "test_prompts_upper/loud"]

    STRATEGIES.add("test_prompts_short", lambda labels, cfg, seed, device: [["x"]])
    with pytest.raises(SynthrecError, match="1 prompt lists for 3 classes"):
        build_prompts(LABELS, PromptsConfig(), seed=0, strategy="test_prompts_short")
    with pytest.raises(ConfigError, match="unknown prompt strategy"):
        build_prompts(LABELS, PromptsConfig(), seed=0, strategy="test_prompts_missing")
