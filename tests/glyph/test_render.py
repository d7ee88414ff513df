import numpy as np
import pytest
from PIL import Image

from synthrec.glyph.world.render import (DIGITS, STYLE_MIXES, font_catalog, grid, random_chars, render_glyphs,
                                         scan_8x8, to_size)


def test_same_seed_same_images_and_captions():
    chars = random_chars(60, seed=3)
    a = render_glyphs(chars, seed=5)
    b = render_glyphs(chars, seed=5)
    assert [x[0].tobytes() for x in a] == [x[0].tobytes() for x in b]
    assert [x[1] for x in a] == [x[1] for x in b]
    c = render_glyphs(chars, seed=6)
    assert [x[0].tobytes() for x in a] != [x[0].tobytes() for x in c]


def test_image_i_does_not_depend_on_the_batch():
    chars = random_chars(20, seed=1)
    whole = render_glyphs(chars, seed=9)
    tail = render_glyphs(chars[10:], seed=9, start=10)
    assert [x[0].tobytes() for x in whole[10:]] == [x[0].tobytes() for x in tail]


@pytest.mark.parametrize("style", sorted(STYLE_MIXES))
def test_styles_sizes_and_captions(style):
    out = render_glyphs(list(DIGITS) * 3, seed=0, styles=style, size=16)
    for (im, cap, meta), ch in zip(out, list(DIGITS) * 3):
        assert im.mode == "L" and im.size == (16, 16)
        assert ch in cap and meta["char"] == ch
        assert np.asarray(im).max() > 100, "every glyph has ink"
    if style == "domain":
        assert all(m["scan"] and m["source"] == "pen" for _, _, m in out)
        assert all(c.startswith("a low-res scan of") for _, c, _ in out)


def test_letters_and_other_sizes():
    out = render_glyphs(list("AbZ"), seed=0, styles="typeset", size=28)
    assert all(im.size == (28, 28) and np.asarray(im).max() > 100 for im, _, _ in out)


def test_scan_path_has_17_levels_like_load_digits():
    arr = np.zeros((32, 32), np.float32)
    arr[4:28, 10:14] = 255
    small = scan_8x8(arr)
    assert small.shape == (8, 8)
    levels = set(np.unique(np.round(small * 16 / 255)).tolist())
    assert levels <= set(range(17))
    assert to_size(Image.fromarray(small), 16).size == (16, 16)


def test_matplotlib_fonts_alone_work():
    fonts = font_catalog("matplotlib")
    assert len(fonts) >= 10
    out = render_glyphs(list(DIGITS), seed=0, styles="typeset", fonts=fonts)
    assert len({x[0].tobytes() for x in out}) == 10


def test_grid():
    ims = [x[0] for x in render_glyphs(list(DIGITS), seed=0)]
    assert grid(ims, cols=5, scale=2).size == (5 * 17 * 2, 2 * 17 * 2)


def test_many_writers_cover_the_glyph_variants_and_pens():
    from synthrec.glyph.world.render import WRITER_VARIANTS

    out = render_glyphs(["7"] * 150 + ["4"] * 150, seed=2, styles="domain-writers")
    writers = [m["writer"] for _, _, m in out]
    for ch, part in (("7", writers[:150]), ("4", writers[150:])):
        assert {w["variant"] for w in part} == set(range(len(WRITER_VARIANTS[ch]))), f"every {ch} variant is drawn"
    widths = [w["pen_width"] for w in writers]
    slants = [w["slant"] for w in writers]
    heights = [w["height"] for w in writers]
    assert min(widths) < 2.0 and max(widths) > 6.0
    assert min(slants) < -0.1 and max(slants) > 0.4
    assert min(heights) < 18 and max(heights) > 29
    assert len({im.tobytes() for im, _, _ in out}) == len(out)


def test_writers_leave_fonts_and_the_clip_world_alone():
    """The writer draws come after every other choice, so typeset images of a mix are the same with or without
    writers (the shipped CLIP's training data does not depend on the option)."""
    from dataclasses import replace

    chars = random_chars(80, seed=4)
    plain = render_glyphs(chars, seed=3, styles="generator")
    many = render_glyphs(chars, seed=3, styles=replace(STYLE_MIXES["generator"], writers=True))
    fonts = [k for k, (_, _, m) in enumerate(plain) if m["source"] == "font"]
    pens = [k for k, (_, _, m) in enumerate(plain) if m["source"] == "pen"]
    assert fonts and pens
    assert all(plain[k][0].tobytes() == many[k][0].tobytes() for k in fonts)
    assert all("writer" not in plain[k][2] and "writer" in many[k][2] for k in pens)


def test_scanner_threshold_changes_the_ink():
    from synthrec.glyph.world.render import sample_writer, scan_writer
    from dataclasses import replace

    arr = np.zeros((32, 32), np.float32)
    arr[4:28, 12:16] = 255
    arr[4:28, 11] = arr[4:28, 16] = 120  # anti-aliased edges
    w = replace(sample_writer("1", np.random.default_rng(0)), bleed=0.0)
    light, dark = scan_writer(arr, replace(w, threshold=170)), scan_writer(arr, replace(w, threshold=100))
    assert dark.sum() > light.sum()
