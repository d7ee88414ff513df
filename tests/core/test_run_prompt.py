"""The one function that decides a run's generation prompt and head (context.prompts_config / head_templates)."""
from __future__ import annotations

from synthrec import context as api
from synthrec.config import load_config
from synthrec.context import RunContext
from synthrec.stages import stage_keys


def _cfg(labels, prompts=None, train=None):
    data = {"run_dir": "/tmp/unused", "labels": labels, "generate": {"generator": "glyph"}}
    if prompts:
        data["prompts"] = prompts
    if train:
        data["train"] = train
    return load_config(data=data)


def test_le_sentences_get_the_dataset_prefix_from_the_registry():
    assert api.prompts_config(_cfg({"dataset": "eurosat"}, {"strategy": "le"})).prefix == \
        "a centered satellite photo of"
    assert api.prompts_config(_cfg({"dataset": "cifar10"}, {"strategy": "le"})).prefix == "a photo of a"
    assert api.prompts_config(_cfg({"names": ["a", "b"]}, {"strategy": "le"})).prefix == "a photo of a"
    # labels.domain and an explicit prefix win over the registry
    assert api.prompts_config(_cfg({"dataset": "eurosat", "domain": "an aerial photo of"},
                                   {"strategy": "le"})).prefix == "an aerial photo of"
    assert api.prompts_config(_cfg({"dataset": "eurosat"}, {"strategy": "le", "prefix": ""})).prefix == ""


def test_basic_prompt_is_the_datasets_own_and_keeps_its_key():
    cfg = _cfg({"dataset": "eurosat"})
    assert api.prompts_config(cfg).template == "a centered satellite photo of {c}."
    assert api.prompts_config(cfg).prefix is None
    # settings added for LE and tuning stay out of the keys of runs that do not use them
    keys = stage_keys(RunContext(cfg))
    assert "require_class_word" not in str(keys["prompts"][1]) and "tune" not in keys["train"][1]
    le = _cfg({"dataset": "eurosat"}, {"strategy": "le"})
    assert stage_keys(RunContext(le))["prompts"][1]["le"]["require_class_word"] is False


def test_imagenet_head_is_the_7_template_ensemble():
    templates = api.head_templates(_cfg({"dataset": "imagenet"}))
    assert len(templates) == 7 and "itap of a {c}." in templates
    assert api.head_templates(_cfg({"dataset": "eurosat"})) == ["a centered satellite photo of {c}."]


def test_fewshot_b_and_rg_prompts_come_from_the_same_function():
    # a basic EuroSAT run: few-shot B's LE sentences still get EuroSAT's prefix, RG the dataset's own prompt
    cfg = _cfg({"dataset": "eurosat"})
    assert api.prompts_config(cfg, "le").strategy == "le"
    assert api.prompts_config(cfg, "le").prefix == "a centered satellite photo of"
    le_run = _cfg({"dataset": "eurosat"}, {"strategy": "le"})
    assert api.prompts_config(le_run, "basic").template == "a centered satellite photo of {c}."
