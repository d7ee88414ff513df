"""Generator backends on the tiny SD: shapes, per-image seeds, batch independence, img2img, errors, routing."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from PIL import Image

from synthrec.errors import ConfigError, ModelLoadError
from synthrec.generate import create_generator, list_generator_backends
from synthrec.generate.backends import parse_spec

STEPS, GUIDANCE = 2, 3.0  # as the tiny_generator fixture (conftest.py) makes it


def _px(img) -> np.ndarray:
    return np.asarray(img, dtype=np.int16)


def test_text_to_image_shapes_and_settings(tiny_generator):
    out = tiny_generator.text_to_image(["a dog", "a cat", "a fish"], [1, 2, 3])
    assert len(out.images) == 3 and out.seeds == [1, 2, 3]
    assert all(im.size == (16, 16) and im.mode == "RGB" for im in out.images)
    s = tiny_generator.settings
    assert (s["steps"], s["guidance_scale"], s["height"], s["width"], s["dtype"]) == (STEPS, GUIDANCE, 16, 16, "fp32")
    assert s["scheduler"] == "DDIMScheduler" and s["pipeline"] == "StableDiffusionPipeline" and s["diffusers_version"]
    with pytest.raises(ValueError, match="one seed per prompt"):
        tiny_generator.text_to_image(["a dog"], [1, 2])


def test_seed_determinism_and_batch_independence(tiny_generator):
    prompts, seeds = ["a dog", "a cat", "a fish", "a bird"], [11, 12, 13, 14]
    batch = tiny_generator.text_to_image(prompts, seeds).images
    again = tiny_generator.text_to_image(prompts, seeds).images
    assert all(np.array_equal(_px(a), _px(b)) for a, b in zip(batch, again))
    single = tiny_generator.text_to_image([prompts[2]], [seeds[2]]).images[0]
    # Same seed -> same initial noise, whatever the batch; only float rounding of batched kernels may differ.
    diff = np.abs(_px(single) - _px(batch[2]))
    assert diff.max() <= 2 and diff.mean() < 0.1
    other = tiny_generator.text_to_image([prompts[2]], [99]).images[0]
    assert np.abs(_px(other) - _px(batch[2])).mean() > 1


def test_img2img_uses_strength(tiny_generator):
    rng = np.random.default_rng(0)
    init = [Image.fromarray(rng.integers(0, 255, (10, 12, 3), dtype=np.uint8)) for _ in range(2)]  # resized to 16
    a = tiny_generator.image_to_image(["a dog", "a cat"], [1, 2], init, strength=0.5).images
    b = tiny_generator.image_to_image(["a dog", "a cat"], [1, 2], init, strength=0.5).images
    c = tiny_generator.image_to_image(["a dog", "a cat"], [1, 2], init, strength=1.0).images
    assert [im.size for im in a] == [(16, 16)] * 2
    assert np.array_equal(_px(a[0]), _px(b[0]))
    assert np.abs(_px(a[0]) - _px(c[0])).mean() > 1
    assert tiny_generator.supports_img2img
    with pytest.raises(ConfigError, match="no denoising step"):
        tiny_generator.image_to_image(["a dog"], [1], init[:1], strength=0.2)  # 2 steps x 0.2 < 1


def test_replace_shares_the_pipeline(tiny_generator):
    g = tiny_generator.replace(steps=4, guidance_scale=1.0)
    assert g.pipe is tiny_generator.pipe and (g.steps, g.settings["steps"], g.settings["guidance_scale"]) == (4, 4, 1.0)
    assert tiny_generator.settings["steps"] == STEPS
    assert g.text_to_image(["a dog"], [1]).images[0].size == (16, 16)


def test_scheduler_swap_by_name(tiny_sd_path):
    g = create_generator(tiny_sd_path, device="cpu", steps=2, guidance_scale=1.0,
                         scheduler="DPMSolverMultistepScheduler")
    assert g.settings["scheduler"] == "DPMSolverMultistepScheduler"
    assert g.text_to_image(["a dog"], [0]).images[0].size == (16, 16)
    with pytest.raises(ConfigError, match="unknown scheduler 'NoSuchScheduler'.*DDIMScheduler"):
        create_generator(tiny_sd_path, device="cpu", steps=2, guidance_scale=1.0, scheduler="NoSuchScheduler")


@pytest.mark.parametrize("spec, needle", [
    ("nobody-here/no-such-model-xyz", "huggingface-cli"),
    ("/nonexistent/dir/model", "does not exist"),
    ("./missing-model-folder", "does not exist"),
    ("bad id with spaces", "typos"),
])
def test_unknown_model_is_one_line_model_load_error(spec, needle):
    with pytest.raises(ModelLoadError) as err:
        create_generator(spec, device="cpu", steps=2, guidance_scale=1.0)
    msg = str(err.value)
    assert "\n" not in msg and spec in msg and needle in msg
    assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)


def test_folder_that_is_not_a_pipeline(tmp_path):
    with pytest.raises(ModelLoadError, match="no model_index.json"):
        create_generator(str(tmp_path), device="cpu", steps=2, guidance_scale=1.0)


def test_spec_parsing():
    assert parse_spec("glyph") == ("glyph", None)
    assert parse_spec("glyph:/w/g") == ("glyph", "/w/g")
    assert parse_spec("diffusers:org/model") == ("diffusers", "org/model")
    assert parse_spec("stabilityai/sdxl-turbo") == ("diffusers", "stabilityai/sdxl-turbo")
    assert set(list_generator_backends()) >= {"diffusers", "glyph"}
    with pytest.raises(ConfigError):
        parse_spec("  ")


class _StubGlyphPipeline:
    """Stands in for synthrec.glyph.models.pipeline.GlyphPipeline: same call, 16x16 grey images from each generator."""

    calls: list = []

    def set_progress_bar_config(self, **kw):
        pass

    def __call__(self, prompt, num_inference_steps=10, guidance_scale=1.0, generator=None, image=None,
                 strength=None, output_type="pil"):
        import torch

        type(self).calls.append({"n": len(prompt), "steps": num_inference_steps, "image": image is not None,
                                 "strength": strength})
        ims = [Image.fromarray((torch.rand(16, 16, generator=g).numpy() * 255).astype(np.uint8), "L")
               for g in generator]
        return types.SimpleNamespace(images=ims)


def test_glyph_spec_routes_to_glyph_pipeline(monkeypatch, tmp_path):
    seen = {}

    def load_glyph_pipeline(path=None, device=None):
        seen.update(path=path, device=device)
        return _StubGlyphPipeline()

    monkeypatch.setitem(sys.modules, "synthrec.glyph.models.pipeline",
                        types.SimpleNamespace(load_glyph_pipeline=load_glyph_pipeline))
    g = create_generator("glyph", device="cpu", steps=3, guidance_scale=2.0)
    assert seen == {"path": None, "device": "cpu"}
    assert g.generator_id == "glyph" and g.settings["backend"] == "glyph" and g.settings["dtype"] == "fp32"
    a = g.text_to_image(["a 7", "a 3"], [5, 6]).images
    assert [im.size for im in a] == [(16, 16)] * 2
    assert np.array_equal(_px(a[0]), _px(g.text_to_image(["a 7"], [5]).images[0]))
    g.image_to_image(["a 7"], [5], [Image.new("L", (16, 16))], strength=0.5)
    assert _StubGlyphPipeline.calls[-1] == {"n": 1, "steps": 3, "image": True, "strength": 0.5}

    create_generator(f"glyph:{tmp_path}", device="cpu", steps=3, guidance_scale=2.0)
    assert seen["path"] == str(tmp_path)
    with pytest.raises(ModelLoadError, match="does not exist"):
        create_generator(f"glyph:{tmp_path}/nope", device="cpu", steps=3, guidance_scale=2.0)


def test_glyph_without_its_module_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "synthrec.glyph.models.pipeline", None)  # import now raises ImportError
    with pytest.raises(ModelLoadError, match="glyph world's pipeline is not available"):
        create_generator("glyph", device="cpu", steps=3, guidance_scale=2.0)


def test_pipeline_family_without_img2img_is_a_clear_error():
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    from synthrec.generate.backends.diffusers import DiffusersGenerator

    unet = UNet2DModel(sample_size=8, block_out_channels=(8, 16), down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4, layers_per_block=1)
    g = DiffusersGenerator(DDPMPipeline(unet=unet, scheduler=DDPMScheduler()), generator_id="ddpm", device="cpu",
                           dtype="fp32", steps=2, guidance_scale=1.0)
    assert not g.supports_img2img
    with pytest.raises(ConfigError, match="DDPMPipeline has no image-to-image variant.*img2img-capable"):
        g.image_to_image(["a dog"], [1], [Image.new("RGB", (8, 8))], strength=0.5)


@pytest.mark.slow
def test_real_glyph_pipeline_through_generate(tmp_path, prompts):
    """The glyph world's actual pipeline class (random weights, saved and loaded by path) behind `glyph:<path>`."""
    glyph = pytest.importorskip("synthrec.glyph.models.pipeline")
    from synthrec.config.schema import GenerateConfig
    from synthrec.generate import RealGuidance, generate, read_manifest

    glyph.new_pipeline(seed=0).save_pretrained(tmp_path / "glyph")
    spec = f"glyph:{tmp_path / 'glyph'}"
    cfg = GenerateConfig(generator=spec, images_per_prompt=2, steps=4, guidance_scale=2.0, shard_size=4,
                         batch_size=4, device="cpu")
    r = generate(prompts, cfg, tmp_path / "t2i", progress=False)
    rows = read_manifest(tmp_path / "t2i").to_pylist()
    assert r.complete and len(rows) == 6 and rows[0]["generator"] == spec and (rows[0]["width"], rows[0]["height"]) \
        == (16, 16)
    shot = tmp_path / "shot.png"
    Image.new("L", (16, 16), 200).save(shot)
    generate(prompts, cfg, tmp_path / "rg", init_images=RealGuidance({0: [str(shot)], 1: [str(shot)]}, 0.5),
             progress=False)
    assert {r["source_shot"] for r in read_manifest(tmp_path / "rg").to_pylist()} == {str(shot)}
