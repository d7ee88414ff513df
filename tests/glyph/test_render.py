import numpy as np
import pytest
from PIL import Image

from synthrec.glyph.world.render import (DIGITS, STYLE_MIXES, font_catalog, grid, random_chars, render_glyphs, scan_8x8,
                                   to_size)


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
