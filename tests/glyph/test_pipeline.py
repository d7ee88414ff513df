import numpy as np
import pytest
import torch
from diffusers.pipelines import ImagePipelineOutput
from PIL import Image

from synthrec.glyph.models.pipeline import GlyphPipeline, load_glyph_pipeline, new_pipeline
from synthrec.glyph.models import weights_dir
from synthrec.glyph.world import basic_prompt

SHIPPED = (weights_dir("pipeline") / "model_index.json").is_file()


@pytest.fixture(scope="module")
def pipe():
    p = new_pipeline(base=8, seed=0)
    p.set_progress_bar_config(disable=True)
    return p


def _gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_text_to_image_shapes_and_seeds(pipe):
    out = pipe(["a 7", "a 1"], num_inference_steps=3, num_images_per_prompt=2, generator=_gens([0, 1, 2, 3]))
    assert isinstance(out, ImagePipelineOutput)
    assert len(out.images) == 4 and all(im.mode == "L" and im.size == (16, 16) for im in out.images)
    again = pipe(["a 7", "a 1"], num_inference_steps=3, num_images_per_prompt=2, generator=_gens([0, 1, 2, 3]))
    assert [i.tobytes() for i in out.images] == [i.tobytes() for i in again.images]
    # image i uses generator i: the same seed gives the same image whatever the batch
    alone = pipe(["a 1"], num_inference_steps=3, generator=_gens([3]), output_type="np").images
    batched = pipe(["a 7", "a 1"], num_inference_steps=3, num_images_per_prompt=2, generator=_gens([0, 1, 2, 3]),
                   output_type="np").images
    assert np.allclose(alone[0], batched[3], atol=1e-4)
    assert pipe("a 7", num_inference_steps=2, output_type="pt").images.shape == (1, 1, 16, 16)


def test_image_to_image(pipe):
    init = Image.new("L", (8, 8), 0)
    out = pipe(["a 7"] * 2, image=[init, init], strength=0.5, num_inference_steps=4, generator=_gens([0, 1]))
    again = pipe(["a 7"] * 2, image=[init, init], strength=0.5, num_inference_steps=4, generator=_gens([0, 1]))
    assert len(out.images) == 2 and out.images[0].size == (16, 16)
    assert [i.tobytes() for i in out.images] == [i.tobytes() for i in again.images]
    assert out.images[0].tobytes() != out.images[1].tobytes()
    # strength 0 keeps the init image
    same = pipe("a 7", image=Image.new("L", (16, 16), 255), strength=0.0, num_inference_steps=4).images[0]
    assert np.asarray(same).min() == 255
    with pytest.raises(ValueError):
        pipe("a 7", image=init, strength=1.5)


def test_save_and_load_round_trip(pipe, tmp_path):
    pipe.save_pretrained(tmp_path)
    assert not any("minilm" in p.name.lower() for p in tmp_path.rglob("*"))
    loaded = GlyphPipeline.from_pretrained(tmp_path, local_files_only=True)
    loaded.set_progress_bar_config(disable=True)
    a = pipe("a 3", num_inference_steps=3, generator=_gens([5]), output_type="np").images
    b = loaded("a 3", num_inference_steps=3, generator=_gens([5]), output_type="np").images
    assert np.allclose(a, b, atol=1e-6)
    assert load_glyph_pipeline(tmp_path).unet.config.sample_size == 16


# Golden numbers of the shipped pipeline (seed 0): one basic-prompt image per digit, generator seed = digit.
# Since issue 10 the pipeline is fine-tuned on many writers, whose scans the CLIP reads less often (69.8 % of 1,000
# basic-prompt samples, the pipeline's model card; 6 of these 10).
GOLDEN_MEANS = [0.3796, 0.4214, 0.2826, 0.4649, 0.299, 0.3029, 0.2626, 0.2699, 0.4005, 0.2006]
GOLDEN_CLIP_TOP1 = [0, 0, 1, 8, 4, 5, 6, 4, 8, 9]  # the shipped mini CLIP's reading of those images

needs_weights = pytest.mark.skipif(not SHIPPED, reason="shipped glyph pipeline not trained yet "
                                   "(synthrec glyph train --only diffusion, then --only writers)")


@needs_weights
def test_shipped_pipeline_golden_samples():
    from synthrec.glyph.world import DIGIT_CLASSNAMES

    p = load_glyph_pipeline()
    images = p([basic_prompt(c) for c in DIGIT_CLASSNAMES], generator=_gens(range(10))).images
    means = [float(np.asarray(im).mean() / 255) for im in images]
    assert np.allclose(means, GOLDEN_MEANS, atol=0.01)
    if (weights_dir("clip") / "model.safetensors").is_file():
        from synthrec.features.encoders.glyph import load_glyph_clip
        from synthrec.glyph.training.measure import zero_shot_head

        enc = load_glyph_clip()
        pred = (enc.encode_images(images) @ zero_shot_head(enc).T).argmax(1).tolist()
        assert sum(a == b for a, b in zip(pred, GOLDEN_CLIP_TOP1)) >= 9
        assert sum(a == k for k, a in enumerate(pred)) >= 6


@needs_weights
def test_shipped_pipeline_loads_and_is_deterministic():
    p = load_glyph_pipeline()
    a = p([basic_prompt("7")], generator=_gens([0]), output_type="np").images
    b = p([basic_prompt("7")], generator=_gens([0]), output_type="np").images
    assert a.shape == (1, 16, 16, 1) and np.array_equal(a, b)
    assert a.max() > 0.5, "a digit has bright ink"



def test_a_prompts_vector_does_not_depend_on_its_batch_mates(pipe):
    # The vector a prompt conditions on must be the same bits in any micro-batch, with or without textual-inversion
    # tokens; else generated images depend on the batch size and on what the process encoded before.
    probe = basic_prompt("4")
    others = ["a", "a low-res scan of a child writing the number four on a blackboard"]
    assert torch.equal(pipe.encode_prompt([probe])[0], pipe.encode_prompt([others[0], probe, others[1]])[1])
    pipe.load_textual_inversion({"<ti>": torch.randn(384)})
    try:
        tokened = "a low-res scan of a <ti> 4"
        assert torch.equal(pipe.encode_prompt([tokened])[0], pipe.encode_prompt([others[1], tokened])[1])
    finally:
        pipe.unload_textual_inversion()
