"""Generation options on the tiny SD pipeline: negative prompt, LoRA and textual inversion, pipeline kwargs."""
from __future__ import annotations

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from synthrec.errors import ConfigError, ModelLoadError
from synthrec.generate import create_generator_from_config

PROMPTS, SEEDS = ["a dog", "a cat"], [1, 2]


def _pixels(gen, prompts=PROMPTS):
    return np.stack([np.asarray(im, dtype=np.int16) for im in gen.text_to_image(prompts, SEEDS).images])


@pytest.fixture(scope="module")
def lora_file(tiny_sd_path, tmp_path_factory):
    """A LoRA for the tiny UNet, made as a user's training script would (peft adapter, diffusers' saver)."""
    import torch
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd_path)
    pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in pipe.unet.named_parameters():
            if "lora_B" in name:  # peft starts B at zero (a no-op adapter); a trained one is not
                p.normal_(0, 0.5)
    out = tmp_path_factory.mktemp("lora")
    StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=get_peft_model_state_dict(pipe.unet),
                                              weight_name="pets_lora.safetensors")
    return out / "pets_lora.safetensors"


@pytest.fixture(scope="module")
def embedding_file(tmp_path_factory):
    import torch
    from safetensors.torch import save_file

    out = tmp_path_factory.mktemp("ti") / "my_cat.safetensors"
    torch.manual_seed(0)
    save_file({"<my-cat>": torch.randn(32)}, str(out))  # the tiny text encoder is 32 wide
    return out


def test_negative_prompt_changes_images_and_is_recorded(make_cfg):
    base = create_generator_from_config(make_cfg())
    neg = create_generator_from_config(make_cfg(negative_prompt="blurry, text"))
    assert neg.settings["negative_prompt"] == "blurry, text" and "negative_prompt" not in base.settings
    assert not np.array_equal(_pixels(base), _pixels(neg))


def test_lora_changes_images_by_its_weight(make_cfg, lora_file):
    base = _pixels(create_generator_from_config(make_cfg()))
    on = create_generator_from_config(make_cfg(adapters=[{"path": str(lora_file), "weight": 1.0}]))
    off = create_generator_from_config(make_cfg(adapters=[{"path": str(lora_file), "weight": 0.0}]))
    assert on.settings["adapters"][0]["path"] == str(lora_file)
    assert np.abs(_pixels(on) - base).max() > 10
    assert np.abs(_pixels(off) - base).max() <= 1  # scale 0: the base model's images


def test_textual_inversion_adds_its_token(make_cfg, embedding_file):
    gen = create_generator_from_config(make_cfg(adapters=[{"kind": "textual_inversion", "path": str(embedding_file),
                                                           "token": "<my-cat>"}]))
    assert "<my-cat>" in gen.pipe.tokenizer.get_vocab()
    with_token = _pixels(gen, ["a photo of <my-cat>", "a photo of <my-cat>"])
    plain = _pixels(gen, ["a photo of a cat", "a photo of a cat"])
    assert with_token.shape == plain.shape and not np.array_equal(with_token, plain)


def test_pipeline_kwargs_pass_through_and_are_checked(make_cfg):
    base = _pixels(create_generator_from_config(make_cfg()))
    eta = create_generator_from_config(make_cfg(pipeline_kwargs={"eta": 1.0}))  # DDIM: eta adds fresh noise
    assert eta.settings["pipeline_kwargs"] == {"eta": 1.0}
    assert not np.array_equal(_pixels(eta), base)
    with pytest.raises(ConfigError, match="takes no argument 'etta'.*eta"):
        create_generator_from_config(make_cfg(pipeline_kwargs={"etta": 1.0}))
    with pytest.raises(ConfigError, match="'num_inference_steps'.*generate.steps"):
        create_generator_from_config(make_cfg(pipeline_kwargs={"num_inference_steps": 9}))


def test_bad_adapters_fail_with_one_line(make_cfg, tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        create_generator_from_config(make_cfg(adapters=[{"path": str(tmp_path / "nope.safetensors")}]))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="cannot load adapter"):
        create_generator_from_config(make_cfg(adapters=[{"path": str(junk)}]))


def test_options_in_the_generation_key_through_the_cli(tmp_path, tiny_sd_path, lora_file):
    from synthrec.cli.app import app

    def write(**gen):
        # generate checks the whole config first: the encoders must resolve offline too (glyph ships with synthrec)
        cfg = {"run_dir": str(tmp_path / "run"), "labels": {"names": ["cat", "dog"]}, "train": {"encoder": "glyph"},
               "generate": {"generator": tiny_sd_path, "images_per_prompt": 2, "steps": 2, "batch_size": 2,
                            "device": "cpu", **gen}}
        (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
        return str(tmp_path / "c.yaml")

    runner = CliRunner()
    opts = {"negative_prompt": "blurry", "scheduler": "EulerDiscreteScheduler", "pipeline_kwargs": {"eta": 0.5},
            "adapters": [{"path": str(lora_file), "weight": 0.8}]}
    assert runner.invoke(app, ["prompts", write(**opts)]).exit_code == 0
    res = runner.invoke(app, ["generate", write(**opts)])
    assert res.exit_code == 0, res.output
    import json

    import pyarrow.parquet as pq

    row = pq.read_table(next((tmp_path / "run" / "generate" / "manifest").glob("*.parquet"))).to_pylist()[0]
    settings = json.loads(row["settings"])
    assert settings["negative_prompt"] == "blurry" and settings["scheduler"] == "EulerDiscreteScheduler"
    assert settings["pipeline_kwargs"] == {"eta": 0.5} and settings["adapters"][0]["weight"] == 0.8
    for changed, name in [({**opts, "negative_prompt": "text"}, "negative_prompt"),
                          ({**opts, "adapters": [{"path": str(lora_file), "weight": 0.4}]}, "adapters"),
                          ({**opts, "pipeline_kwargs": {"eta": 0.0}}, "pipeline_kwargs")]:
        res = runner.invoke(app, ["generate", write(**changed)])
        assert res.exit_code == 1 and "different config" in res.output and name in res.output, res.output


def test_unset_options_leave_the_generation_key_as_before(make_cfg):
    from synthrec.config.schema import GenerateConfig

    dumped = make_cfg().model_dump(mode="json")
    assert not {"negative_prompt", "adapters", "pipeline_kwargs"} & set(dumped)
    assert GenerateConfig(**dumped) == make_cfg()
