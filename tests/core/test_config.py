import pytest

from synthrec.config import load_config
from synthrec.errors import ConfigError

BASE = {"run_dir": "r", "labels": {"names": ["a", "b"]}, "generate": {"generator": "g"}}


def test_defaults_follow_the_paper():
    cfg = load_config(data=BASE)
    assert (cfg.train.lr, cfg.train.weight_decay, cfg.train.epochs, cfg.train.batch_size) == (2e-3, 0.1, 30, 512)
    assert (cfg.train.sce_weight, cfg.train.temperature) == (0.5, 2.0)


@pytest.mark.parametrize("patch, needle", [
    ({"generate": {"generator": "g", "stepz": 3}}, "unknown key 'generate.stepz'"),
    ({"generate": {"generator": "g", "steps": 0}}, "generate.steps"),
    ({"generate": {"generator": "g", "images_per_prompt": -2}}, "generate.images_per_prompt"),
    ({"train": {"epochs": "many"}}, "train.epochs"),
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"labels": {"names": ["a", "b"], "file": "x.txt"}}, "exactly one of"),
    ({"train": {"templates": ["no slot"]}}, "slot"),
])
def test_bad_configs_give_one_line(patch, needle):
    with pytest.raises(ConfigError) as err:
        load_config(data={**BASE, **patch})
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_overrides_and_yaml_file(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("run_dir: r\nlabels: {names: [a, b]}\ngenerate: {generator: g}\n")
    cfg = load_config(p, ["train.lr=1e-3", "generate.steps=7", "labels.domain=a sketch of"])
    assert cfg.train.lr == 1e-3 and cfg.generate.steps == 7 and cfg.labels.domain == "a sketch of"
    with pytest.raises(ConfigError, match="no '='"):
        load_config(p, ["train.lr"])
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("run_dir: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_dataset_option_replaces_the_label_source(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("run_dir: r\nlabels: {names: [a, b], domain: a sketch of}\ngenerate: {generator: g}\n")
    cfg = load_config(p, dataset="eurosat")
    assert cfg.labels.dataset == "eurosat" and cfg.labels.names is None and cfg.labels.domain == "a sketch of"
    p.write_text("run_dir: r\ngenerate: {generator: g}\n")
    assert load_config(p, dataset="cifar10").labels.dataset == "cifar10"


def test_dataset_prompts_and_head_templates_follow_the_paper(tmp_path):
    from synthrec import context as api

    p = tmp_path / "c.yaml"
    p.write_text("run_dir: r\ngenerate: {generator: g}\n")
    cfg = load_config(p, dataset="eurosat")
    assert api.prompts_config(cfg).template == "a centered satellite photo of {c}."
    assert api.head_templates(cfg) == ["a centered satellite photo of {c}."]
    names = api.resolve_labels(cfg).names
    assert names[0] == "Annual Crop Land" and len(names) == 10
    cfg = load_config(p, ["prompts.template=a photo of a {c}."], dataset="eurosat")
    assert api.prompts_config(cfg).template == "a photo of a {c}."
