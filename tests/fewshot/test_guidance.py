import pytest

from synthrec.errors import ConfigError
from synthrec.fewshot.guidance import (glide_alpha_bar, glide_step, rg_steps, rg_strength, split_evenly,
                                       start_timestep, strength_table, t_star_for)

PAPER = {15: (141, 0.9465), 20: (192, 0.9052), 35: (343, 0.7282), 40: (394, 0.6549), 50: (494, 0.5016)}


def _sd():
    from diffusers import DDIMScheduler

    return DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                         clip_sample=False, set_alpha_to_one=False)


def test_glide_steps_and_alpha_bar_match_method_table():
    for t_star, (step, ab) in PAPER.items():
        assert glide_step(t_star) == step
        assert glide_alpha_bar(t_star) == pytest.approx(ab, abs=1e-4)
    with pytest.raises(ConfigError):
        glide_step(0)


def test_strength_matches_alpha_bar_and_is_monotone():
    sd = _sd()
    plain = type(sd).from_config(sd.config, steps_offset=0)
    strengths = [rg_strength(t, sd) for t in range(1, 101)]
    assert all(a <= b for a, b in zip(strengths, strengths[1:])) and strengths[0] < strengths[-1]
    for t_star in PAPER:
        s = rg_strength(t_star, sd)
        t = round(s * 1000) - 1
        assert float(sd.alphas_cumprod[t]) == pytest.approx(glide_alpha_bar(t_star), abs=2e-3)
        # with 1000 inference steps (and no steps_offset) the img2img pipeline starts exactly at that timestep
        assert start_timestep(s, plain, 1000) == t
    # SD's scaled_linear chain is noisier than GLIDE's cosine one: the same ᾱ comes much earlier
    assert rg_strength(50, sd) == pytest.approx(0.354, abs=1e-3)
    assert rg_strength(15, sd) == pytest.approx(0.056, abs=1e-3)
    # GLIDE's own schedule (and the glyph pipeline's, also squaredcos_cap_v2) maps t* to about t*/100
    assert rg_strength(50) == pytest.approx(0.495)


def test_a_pipeline_is_accepted_and_rg_steps_refine_the_grid():
    from diffusers import DDIMScheduler

    glyph_like = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", clip_sample=True,
                               set_alpha_to_one=False, timestep_spacing="trailing")

    class Pipe:
        scheduler = glyph_like

    assert rg_strength(35, Pipe()) == rg_strength(35, glyph_like) == pytest.approx(0.344)
    # at 15 steps the pipeline's grid puts t*=15 and t*=20 on one timestep; rg_steps separates them
    s15, s20 = rg_strength(15, glyph_like), rg_strength(20, glyph_like)
    assert start_timestep(s15, glyph_like, 15) == start_timestep(s20, glyph_like, 15)
    for t_star in PAPER:
        s = rg_strength(t_star, glyph_like)
        n, st, ab = rg_steps(s, glyph_like, 15)
        assert 15 <= n <= 60 and abs(ab - glide_alpha_bar(t_star)) <= 0.01
    rows = strength_table([15, 50], glyph_like, 15)
    assert rows[0]["timestep"] == 141 and rows[1]["start_timestep"] is not None


def test_split_and_t_star_lookup():
    assert split_evenly(800, 16) == [50] * 16
    assert split_evenly(800, 3) == [267, 267, 266]
    table = {16: 15, 8: 20, 4: 35, 2: 40, 1: 50}
    assert t_star_for(8, table) == 20 and t_star_for(5, table) == 35
    with pytest.raises(ConfigError):
        t_star_for(3, {4: 35})
