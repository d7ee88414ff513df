"""Deterministic glyph renderer: the glyph world's "reality".

Every image is drawn white-on-black on a 32x32 work canvas, then brought down to the requested size. Two sources of
ink: typeset characters from installed fonts (fontconfig's ``fc-list``; matplotlib's bundled fonts when fontconfig
is missing) and a procedural pen-stroke "handwriting" renderer for digits. Style augmentations (rotation, shear,
scale, stroke width, elastic distortion, blur) and a "low-res scan" path follow. The scan path copies how
scikit-learn's ``load_digits`` was made (UCI optdigits): a 32x32 binary bitmap, ink counted in 4x4 blocks to an 8x8
image of 17 grey levels, which the CLIP preprocessing then resizes to 16x16 exactly as it resizes the real digits.

Same ``seed`` -> same images on one machine: image ``i`` draws all its choices from ``default_rng([seed, i])``.
The font list is part of the machine, so :func:`font_catalog` is logged by training to make runs comparable.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CANVAS = 32
DIGITS = tuple("0123456789")
LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Families whose "digits" are not digits (symbol and dingbat encodings), or that only hold big operators.
_SKIP_FAMILY_WORDS = ("symbol", "dingbat", "d050000l", "math", "cmex", "cmsy", "stixsiz", "stixnonuni",
                      "lastresort", "display")


@dataclass(frozen=True)
class FontInfo:
    path: str
    family: str
    style: str
    kind: str          # serif | sans | mono | script | handwriting
    bold: bool
    italic: bool


def _font_kind(family: str) -> str:
    f = family.lower()
    if any(w in f for w in ("humor", "comic", "dkg", "handwriting")):
        return "handwriting"
    if any(w in f for w in ("dancing", "z003", "chancery", "script")):
        return "script"
    if any(w in f for w in ("mono", "courier", "cousine", "cmtt")):
        return "mono"
    if any(w in f for w in ("sans", "arimo", "gothic", "cmss", "helvet")):
        return "sans"
    return "serif"


def _fc_fonts() -> list[tuple[str, str, str]]:
    if shutil.which("fc-list") is None:
        return []
    try:
        out = subprocess.run(["fc-list", "--format", "%{file}|%{family[0]}|%{style[0]}\n"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].lower().endswith((".ttf", ".otf")):
            rows.append((parts[0], parts[1], parts[2]))
    return rows


def _mpl_fonts() -> list[tuple[str, str, str]]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    rows = []
    for p in sorted(folder.glob("*.ttf")):
        try:
            fam, sty = ImageFont.truetype(str(p), 20).getname()
        except OSError:
            continue
        rows.append((str(p), fam or p.stem, sty or "Regular"))
    return rows


def _glyphs_ok(path: str) -> bool:
    """A usable font draws ten distinct, non-empty digits (missing glyphs all render as the same box)."""
    try:
        font = ImageFont.truetype(path, 40)
    except OSError:
        return False
    seen = set()
    for ch in DIGITS:
        im = Image.new("L", (64, 64))
        ImageDraw.Draw(im).text((8, 4), ch, fill=255, font=font)
        arr = np.asarray(im)
        if arr.sum() == 0:
            return False
        seen.add(arr.tobytes())
    return len(seen) == len(DIGITS)


@functools.lru_cache(maxsize=4)
def font_catalog(source: str | None = None) -> tuple[FontInfo, ...]:
    """Usable fonts, sorted by path. ``source``: None (fontconfig, else matplotlib), "fontconfig" or "matplotlib".

    ``SYNTHREC_GLYPH_FONTS=matplotlib`` forces the bundled fonts (how CI checks the fallback).
    """
    source = source or os.environ.get("SYNTHREC_GLYPH_FONTS") or None
    rows = []
    if source in (None, "fontconfig"):
        rows = _fc_fonts()
    if not rows and source in (None, "matplotlib"):
        rows = _mpl_fonts()
    fonts, seen_paths = [], set()
    for path, fam, sty in sorted(rows):
        if path in seen_paths or any(w in (fam + os.path.basename(path)).lower() for w in _SKIP_FAMILY_WORDS):
            continue
        seen_paths.add(path)
        if not _glyphs_ok(path):
            continue
        s = sty.lower()
        fonts.append(FontInfo(path, fam, sty, _font_kind(fam), bold=any(w in s for w in ("bold", "demi", "black")),
                              italic=any(w in s for w in ("italic", "oblique"))))
    return tuple(fonts)


@functools.lru_cache(maxsize=20000)
def _glyph_mask(path: str, ch: str, grow: int) -> np.ndarray | None:
    """The character's ink, cropped tight, at about 48 px high; ``grow`` > 0 thickens, < 0 thins the strokes."""
    font = ImageFont.truetype(path, 48)
    im = Image.new("L", (96, 96))
    ImageDraw.Draw(im).text((16, 8), ch, fill=255, font=font)
    if grow > 0:
        im = im.filter(ImageFilter.MaxFilter(2 * grow + 1))
    elif grow < 0:
        im = im.filter(ImageFilter.MinFilter(-2 * grow + 1))
    arr = np.asarray(im)
    ys, xs = np.nonzero(arr > 32)
    if len(ys) == 0:
        return None
    return np.ascontiguousarray(arr[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


# ---------------------------------------------------------------- pen strokes
# Digit skeletons in a unit box (x right, y down). Each variant is a list of strokes; each stroke a list of points.
# A trailing "s" marks strokes drawn as smooth curves (corner-cut), the rest as straight segments.
_PEN: dict[str, list[list[tuple[str, list[tuple[float, float]]]]]] = {
    "0": [[("s", [(0.5, 0.0), (0.82, 0.2), (0.85, 0.6), (0.6, 1.0), (0.3, 0.95), (0.15, 0.55), (0.2, 0.15),
                  (0.5, 0.0)])]],
    "1": [[("l", [(0.5, 0.0), (0.5, 1.0)])],
          [("l", [(0.3, 0.2), (0.55, 0.0), (0.55, 1.0)])],
          [("l", [(0.3, 0.2), (0.55, 0.0), (0.55, 1.0)]), ("l", [(0.3, 1.0), (0.8, 1.0)])],
          [("l", [(0.15, 0.4), (0.6, 0.0), (0.6, 1.0)])],
          [("l", [(0.2, 0.35), (0.6, 0.0), (0.6, 1.0)]), ("l", [(0.3, 1.0), (0.85, 1.0)])],
          [("l", [(0.25, 0.3), (0.62, 0.0), (0.5, 0.35), (0.55, 1.0)])],
          [("s", [(0.2, 0.3), (0.45, 0.15), (0.6, 0.0), (0.58, 0.5), (0.55, 1.0)])]],
    "2": [[("s", [(0.18, 0.25), (0.3, 0.03), (0.6, 0.0), (0.8, 0.18), (0.72, 0.45), (0.45, 0.7), (0.15, 1.0)]),
           ("l", [(0.15, 1.0), (0.88, 1.0)])],
          [("s", [(0.2, 0.2), (0.5, 0.0), (0.8, 0.2), (0.7, 0.5), (0.2, 0.95), (0.5, 0.92), (0.9, 1.0)])]],
    "3": [[("s", [(0.18, 0.12), (0.5, 0.0), (0.8, 0.15), (0.75, 0.38), (0.42, 0.5), (0.8, 0.62), (0.82, 0.88),
                  (0.5, 1.0), (0.15, 0.88)])],
          [("l", [(0.2, 0.0), (0.8, 0.0), (0.45, 0.4)]),
           ("s", [(0.45, 0.4), (0.8, 0.55), (0.82, 0.85), (0.5, 1.0), (0.15, 0.88)])]],
    "4": [[("l", [(0.65, 1.0), (0.65, 0.0), (0.12, 0.68), (0.9, 0.68)])],
          [("l", [(0.28, 0.0), (0.18, 0.6), (0.88, 0.6)]), ("l", [(0.68, 0.2), (0.68, 1.0)])]],
    "5": [[("l", [(0.82, 0.0), (0.3, 0.0), (0.25, 0.45)]),
           ("s", [(0.25, 0.45), (0.55, 0.38), (0.82, 0.55), (0.8, 0.85), (0.5, 1.0), (0.18, 0.9)])]],
    "6": [[("s", [(0.75, 0.03), (0.45, 0.1), (0.25, 0.45), (0.22, 0.78), (0.42, 1.0), (0.72, 0.95), (0.8, 0.72),
                  (0.6, 0.52), (0.35, 0.55), (0.22, 0.72)])]],
    "7": [[("l", [(0.12, 0.0), (0.88, 0.0), (0.4, 1.0)])],
          [("l", [(0.12, 0.0), (0.88, 0.0), (0.4, 1.0)]), ("l", [(0.35, 0.52), (0.75, 0.52)])],
          [("l", [(0.12, 0.15), (0.12, 0.0), (0.88, 0.0), (0.55, 1.0)])]],
    "8": [[("s", [(0.5, 0.47), (0.25, 0.3), (0.28, 0.06), (0.5, 0.0), (0.72, 0.06), (0.75, 0.3), (0.5, 0.47),
                  (0.2, 0.68), (0.24, 0.95), (0.5, 1.0), (0.76, 0.95), (0.8, 0.68), (0.5, 0.47)])]],
    "9": [[("s", [(0.78, 0.3), (0.55, 0.5), (0.28, 0.44), (0.22, 0.2), (0.45, 0.0), (0.72, 0.05), (0.78, 0.3),
                  (0.72, 0.65), (0.6, 1.0)])],
          [("s", [(0.78, 0.28), (0.55, 0.48), (0.27, 0.42), (0.24, 0.18), (0.48, 0.0), (0.75, 0.1), (0.78, 0.28)]),
           ("l", [(0.78, 0.28), (0.76, 1.0)])],
          [("s", [(0.75, 0.25), (0.5, 0.45), (0.25, 0.38), (0.25, 0.12), (0.5, 0.0), (0.75, 0.1), (0.75, 0.3),
                  (0.75, 0.65), (0.6, 0.92), (0.35, 1.0), (0.18, 0.88)])],
          [("s", [(0.7, 0.1), (0.45, 0.0), (0.22, 0.15), (0.3, 0.42), (0.6, 0.4), (0.75, 0.2), (0.72, 0.6),
                  (0.55, 0.95), (0.3, 0.95)])]],
}


def _chaikin(pts: np.ndarray, iters: int = 2) -> np.ndarray:
    for _ in range(iters):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.concatenate([pts[:1], mid, pts[-1:]])
    return pts


def _affine(rot_deg: float, shear: float, sx: float, sy: float) -> np.ndarray:
    a = np.deg2rad(rot_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    sh = np.array([[1.0, -shear], [0.0, 1.0]])  # negative x-shift at the top: a rightward slant for positive shear
    return rot @ sh @ np.diag([sx, sy])


def _place_strokes(strokes, m: np.ndarray, jitter: float, height: float, rng: np.random.Generator
                   ) -> tuple[list[np.ndarray], float, np.ndarray]:
    """Jitter each stroke's control points, smooth the curved ones, apply ``m``; the scale that makes the glyph
    ``height`` px tall (and no wider than the canvas) and the glyph's centre."""
    drawn = []
    for kind, pts in strokes:
        p = np.array(pts, dtype=np.float64)
        p = p + rng.normal(0, jitter, p.shape)
        if kind == "s":
            p = _chaikin(p, 3)
        drawn.append(p @ m.T)
    allp = np.concatenate(drawn)
    lo, hi = allp.min(0), allp.max(0)
    ext = np.maximum(hi - lo, 1e-6)
    return drawn, min(height / ext[1], (CANVAS - 2) / ext[0]), (lo + hi) / 2


def _draw_pen(ch: str, st: "_Sample", rng: np.random.Generator) -> np.ndarray:
    variants = _PEN[ch]
    strokes = variants[int(rng.integers(len(variants)))]
    m = _affine(st.rotation, st.shear, st.aspect, 1.0)
    drawn, s, c = _place_strokes(strokes, m, 0.045 * st.wobble, st.height, rng)
    shift = rng.normal(0, st.shift_px, 2)
    # Supersample x2 so thin strokes still anti-alias when brought down to 32 px.
    ss = 2
    im = Image.new("L", (CANVAS * ss, CANVAS * ss))
    dr = ImageDraw.Draw(im)
    w = max(1, int(round(st.pen_width * ss)))
    for p in drawn:
        q = ((p - c) * s + CANVAS / 2 + shift) * ss
        pts = [tuple(x) for x in q]
        dr.line(pts, fill=255, width=w, joint="curve")
        r = w / 2
        for x, y in (pts[0], pts[-1]):
            dr.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(im.resize((CANVAS, CANVAS), Image.BOX), dtype=np.float32)


def _draw_font(ch: str, st: "_Sample", fonts: Sequence[FontInfo]) -> np.ndarray | None:
    mask = _glyph_mask(fonts[st.font].path, ch, st.grow)
    if mask is None:
        return None
    h, w = mask.shape
    m = _affine(st.rotation, st.shear, st.aspect, 1.0)
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64) - [w / 2, h / 2]
    tc = corners @ m.T
    ext = tc.max(0) - tc.min(0)
    s = min(st.height / ext[1], (CANVAS - 2) / ext[0])
    fwd = m * s  # glyph px -> canvas px
    inv = np.linalg.inv(fwd)
    out_c = np.array([CANVAS / 2, CANVAS / 2]) + st.shift
    # PIL's affine maps output (x, y) to input: in = inv @ (out - out_c) + glyph centre
    off = np.array([w / 2, h / 2]) - inv @ out_c
    im = Image.fromarray(mask).transform((CANVAS, CANVAS), Image.AFFINE,
                                         (inv[0, 0], inv[0, 1], off[0], inv[1, 0], inv[1, 1], off[1]),
                                         resample=Image.BILINEAR)
    return np.asarray(im, dtype=np.float32)


@functools.lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(CANVAS, dtype=np.float32), np.arange(CANVAS, dtype=np.float32), indexing="ij")


def _elastic(arr: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import map_coordinates, zoom

    coarse = rng.normal(0, amount, (2, 4, 4)).astype(np.float32)
    d = zoom(coarse, (1, CANVAS / 4, CANVAS / 4), order=1)
    yy, xx = _grid()
    return map_coordinates(arr, [yy + d[0], xx + d[1]], order=1, mode="constant")


def scan_8x8(arr32: np.ndarray, threshold: float = 128) -> np.ndarray:
    """optdigits' preprocessing: binarise 32x32, count ink in 4x4 blocks -> 8x8 with 17 levels, scaled to 0..255."""
    binary = (arr32 >= threshold).astype(np.int32)
    counts = binary.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return np.round(counts * (255.0 / 16.0)).astype(np.uint8)


def to_size(im: Image.Image, size: int) -> Image.Image:
    """The one resize used for every glyph-world image (renderer output, real digits in the CLIP, init images)."""
    im = im.convert("L")
    if im.size == (size, size):
        return im
    resample = Image.BOX if im.size[0] > size else Image.BILINEAR
    return im.resize((size, size), resample)


# ---------------------------------------------------------------- many writers
# The generator's handwriting (docs/glyph.md, "Many writers"): every image is written by its own randomly drawn
# writer, so that what a head learns from generated images is handwriting, not one data set's writers. Each choice
# below is a way real writers, pens and scanners differ, with ranges wide enough to cover them: glyph variants
# (crossed / plain 7, open / closed 4, flagged / serif / stick 1, looped 2 and 3, stacked-circle 8, ...), stroke
# order (where a loop starts, so where it gaps or overshoots), care (how far the skeleton wanders), slant (most
# writers lean right, some left), size and position in the frame, aspect, pen width and pressure (strokes that
# swell and taper), elastic wobble, and the scanner's binarisation threshold and ink bleed. None of the ranges was
# fitted to load_digits; the shape of every glyph is a plain textbook form.
_WRITER_EXTRA: dict[str, list[list[tuple[str, list[tuple[float, float]]]]]] = {
    "0": [[("s", [(0.62, 0.04), (0.35, 0.0), (0.15, 0.3), (0.18, 0.75), (0.45, 1.0), (0.78, 0.8), (0.85, 0.35),
                  (0.7, 0.05), (0.45, 0.02)])],                                   # written from the top right, overlaps
          [("s", [(0.5, 0.0), (0.25, 0.12), (0.2, 0.5), (0.3, 0.9), (0.5, 1.0), (0.7, 0.9), (0.8, 0.5),
                  (0.75, 0.12), (0.5, 0.0)])]],                                   # narrow, symmetric
    "1": [[("l", [(0.45, 0.0), (0.5, 1.0)])],                                     # a plain stick
          [("l", [(0.35, 0.18), (0.58, 0.0), (0.58, 1.0)]), ("l", [(0.35, 1.0), (0.8, 1.0)])]],  # flag and base
    "2": [[("s", [(0.15, 0.22), (0.4, 0.0), (0.75, 0.08), (0.72, 0.4), (0.3, 0.85), (0.18, 0.98), (0.3, 0.85)]),
           ("l", [(0.2, 0.95), (0.9, 0.95)])],                                    # sharp corner, base drawn apart
          [("s", [(0.2, 0.25), (0.45, 0.0), (0.78, 0.15), (0.65, 0.5), (0.25, 0.9), (0.15, 0.8), (0.3, 0.75),
                  (0.45, 0.95), (0.9, 0.98)])]],                                  # a loop at the bottom
    "3": [[("s", [(0.2, 0.1), (0.5, 0.0), (0.78, 0.18), (0.6, 0.42), (0.4, 0.48), (0.3, 0.42), (0.45, 0.48),
                  (0.8, 0.65), (0.78, 0.9), (0.45, 1.0), (0.15, 0.85)])],         # a small loop in the middle
          [("s", [(0.2, 0.1), (0.5, 0.0), (0.75, 0.2), (0.45, 0.48)]),
           ("s", [(0.45, 0.48), (0.82, 0.7), (0.7, 0.95), (0.4, 1.0), (0.15, 0.85)])]],   # two arcs
    "4": [[("l", [(0.4, 0.0), (0.1, 0.65), (0.9, 0.65)]), ("l", [(0.7, 0.3), (0.65, 1.0)])],  # open, short stem top
          [("l", [(0.6, 0.0), (0.12, 0.62), (0.88, 0.62)]), ("l", [(0.62, 0.0), (0.62, 1.0)])],  # closed, two strokes
          [("l", [(0.2, 0.0), (0.2, 0.55), (0.85, 0.55)]), ("l", [(0.75, 0.0), (0.75, 1.0)])]],   # open, upright
    "5": [[("l", [(0.3, 0.0), (0.25, 0.45)]),
           ("s", [(0.25, 0.45), (0.6, 0.4), (0.82, 0.62), (0.75, 0.9), (0.45, 1.0), (0.15, 0.88)]),
           ("l", [(0.3, 0.02), (0.85, 0.0)])],                                    # stem and belly first, flag last
          [("s", [(0.85, 0.0), (0.3, 0.02), (0.22, 0.42), (0.5, 0.35), (0.82, 0.5), (0.82, 0.85), (0.5, 1.0),
                  (0.2, 0.92)])]],                                                # one stroke
    "6": [[("l", [(0.7, 0.0), (0.25, 0.65)]),
           ("s", [(0.25, 0.65), (0.28, 0.92), (0.5, 1.0), (0.75, 0.88), (0.75, 0.62), (0.5, 0.5), (0.28, 0.6)])],
          [("s", [(0.8, 0.1), (0.5, 0.0), (0.25, 0.3), (0.2, 0.7), (0.4, 1.0), (0.75, 0.95), (0.82, 0.6),
                  (0.55, 0.38), (0.3, 0.45), (0.2, 0.65)])]],                     # a big loop
    "7": [[("s", [(0.1, 0.02), (0.5, 0.0), (0.9, 0.02), (0.65, 0.4), (0.5, 0.75), (0.45, 1.0)])],  # curved stem
          [("l", [(0.1, 0.18), (0.12, 0.0), (0.9, 0.0), (0.45, 1.0)]), ("l", [(0.3, 0.5), (0.8, 0.5)])],
          [("l", [(0.15, 0.0), (0.9, 0.0), (0.55, 0.5), (0.5, 1.0)])]],
    "8": [[("s", [(0.5, 0.0), (0.25, 0.12), (0.28, 0.38), (0.5, 0.45), (0.72, 0.38), (0.75, 0.12), (0.5, 0.0)]),
           ("s", [(0.5, 0.45), (0.2, 0.6), (0.2, 0.92), (0.5, 1.0), (0.8, 0.92), (0.8, 0.6), (0.5, 0.45)])],
          [("s", [(0.75, 0.1), (0.5, 0.0), (0.25, 0.12), (0.3, 0.35), (0.7, 0.62), (0.75, 0.9), (0.5, 1.0),
                  (0.25, 0.9), (0.3, 0.62), (0.7, 0.35), (0.78, 0.15)])]],        # S and back
    "9": [[("s", [(0.75, 0.15), (0.5, 0.0), (0.25, 0.15), (0.28, 0.42), (0.55, 0.48), (0.75, 0.3), (0.75, 0.15)]),
           ("l", [(0.75, 0.2), (0.5, 1.0)])],                                     # slanted straight tail
          [("s", [(0.8, 0.2), (0.55, 0.0), (0.25, 0.1), (0.22, 0.38), (0.5, 0.5), (0.8, 0.3), (0.82, 0.7),
                  (0.7, 1.0), (0.45, 0.95)])]],                                   # curled tail
}
WRITER_VARIANTS = {ch: _PEN[ch] + _WRITER_EXTRA.get(ch, []) for ch in _PEN}


@dataclass(frozen=True)
class Writer:
    """One writer with one pen on one scanner. Lengths in pixels of the 32x32 canvas."""

    variant: int
    care: float          # skeleton jitter, in glyph-box units
    slant: float         # shear; > 0 leans right
    rotation: float      # degrees
    aspect: float        # width / height
    height: float
    shift: tuple[float, float]
    pen_width: float
    pressure: float      # 0: a ball-point's even line; 0.6: a nib that swells and tapers
    elastic: float
    threshold: float     # the scanner's binarisation level, 0..255 (scan path)
    bleed: float         # ink spread before binarisation (Gaussian sigma, px)


# How writers, pens and scanners vary (uniform ranges unless said otherwise). "framed": the share of scans whose
# preprocessing scales the digit to the frame's height (as NIST's forms software did for optdigits); the others
# keep the writer's own size and place in the box (as a plain crop of a form would).
WRITER_RANGES = dict(care=(0.01, 0.07), slant_mean_sd=(0.1, 0.2), slant_clip=(-0.35, 0.55), rotation_sd=6.0,
                     log_aspect=(-0.55, 0.15), height=(16.0, 30.0), framed=0.5, framed_height=(27.0, 31.0),
                     pen_width=(1.5, 7.0), pressure=(0.0, 0.6), elastic_share=0.6, elastic=(0.0, 2.0),
                     threshold=(64.0, 170.0), bleed=(0.0, 1.0))


def sample_writer(ch: str, rng: np.random.Generator, scan: bool = False) -> Writer:
    r = WRITER_RANGES
    variants = WRITER_VARIANTS[ch]
    variant = int(rng.integers(len(variants)))
    framed = scan and rng.random() < r["framed"]
    height = float(rng.uniform(*(r["framed_height"] if framed else r["height"])))
    loose = 1.0 + (30 - height) / 8  # a small digit wanders more in its box
    return Writer(
        variant=variant,
        care=float(rng.uniform(*r["care"])),
        slant=float(np.clip(rng.normal(*r["slant_mean_sd"]), *r["slant_clip"])),
        rotation=float(rng.normal(0, r["rotation_sd"])),
        aspect=float(np.exp(rng.uniform(*r["log_aspect"]))),
        height=height,
        shift=(float(rng.normal(0, loose)), float(rng.normal(0, loose))),
        pen_width=float(np.exp(rng.uniform(*np.log(r["pen_width"])))),
        pressure=float(rng.uniform(*r["pressure"])),
        elastic=float(rng.uniform(*r["elastic"])) if rng.random() < r["elastic_share"] else 0.0,
        threshold=float(rng.uniform(*r["threshold"])),
        bleed=float(rng.uniform(*r["bleed"])),
    )


def _densify(p: np.ndarray, step: float) -> np.ndarray:
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return p[:1]
    t = np.linspace(0, s[-1], max(2, int(s[-1] / step) + 1))
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def _draw_writer(ch: str, w: Writer, rng: np.random.Generator) -> np.ndarray:
    """The glyph as this writer's pen draws it: float 32x32 ink in 0..255."""
    strokes = WRITER_VARIANTS[ch][w.variant]
    m = _affine(w.rotation, w.slant, w.aspect, 1.0)
    drawn, s, c = _place_strokes(strokes, m, w.care, w.height, rng)
    ss = 2  # supersampled, so thin and tapering strokes anti-alias
    im = Image.new("L", (CANVAS * ss, CANVAS * ss))
    dr = ImageDraw.Draw(im)
    for p in drawn:
        q = _densify(((p - c) * s + CANVAS / 2 + np.array(w.shift)) * ss, 0.5)
        u = np.linspace(0, 1, len(q))
        # pressure: the line swells along the stroke and tapers at its ends
        phase = rng.uniform(0, 2 * np.pi)
        profile = 1 - w.pressure * (0.5 + 0.5 * np.sin(2 * np.pi * u + phase)) * 0.6
        profile *= 1 - w.pressure * np.exp(-np.minimum(u, 1 - u) * 12)
        radius = np.maximum(0.5, w.pen_width * ss / 2 * profile)
        for (x, y), r in zip(q, radius):
            dr.ellipse((x - r, y - r, x + r, y + r), fill=255)
    arr = np.asarray(im.resize((CANVAS, CANVAS), Image.BOX), dtype=np.float32)
    if w.elastic:
        arr = _elastic(arr, w.elastic, rng)
    return arr


def scan_writer(arr32: np.ndarray, w: Writer) -> np.ndarray:
    """:func:`scan_8x8` with this scanner's ink bleed and binarisation threshold."""
    if w.bleed > 0.05:
        from scipy.ndimage import gaussian_filter

        arr32 = gaussian_filter(arr32, w.bleed)
        arr32 = arr32 * (255.0 / max(1.0, float(arr32.max())))
    return scan_8x8(arr32, w.threshold)


# ---------------------------------------------------------------- styles
@dataclass(frozen=True)
class StyleMix:
    """Probabilities of each style choice; one image samples one :class:`_Sample` from it."""

    pen: float = 0.3             # procedural handwriting (digits only) instead of a font
    scan: float = 0.2            # low-res scan path (8x8 like load_digits)
    elastic: float = 0.3         # elastic "handwritten" wobble on fonts
    blur: float = 0.15
    rotate: float = 0.3          # a visible rotation (otherwise +-4 degrees)
    slant: float = 0.3           # a visible shear
    bold: float = 0.2            # thicker strokes
    thin: float = 0.1            # thinner strokes
    small: float = 0.15          # drawn small in the frame
    writers: bool = False        # handwriting from many sampled writers (sample_writer) instead of the one pen model
    font_kinds: tuple[str, ...] | None = None   # restrict fonts (e.g. ("handwriting", "script"))


STYLE_MIXES: dict[str, StyleMix] = {
    # What the generator learns from: every style, with the low-res scan of handwriting well represented.
    "generator": StyleMix(pen=0.35, scan=0.35),
    # The domain of the real task: low-res scans of handwriting.
    "domain": StyleMix(pen=1.0, scan=1.0, elastic=0.3, blur=0.0, rotate=0.15, slant=0.4, small=0.0),
    # The generator's fine-tune since issue 10: handwriting from many writers, scans and handwriting more often.
    "writers": StyleMix(pen=0.6, scan=0.5, writers=True),
    # The real task's domain written by many writers: what the design checks use (docs/glyph.md, "Many writers").
    "domain-writers": StyleMix(pen=1.0, scan=1.0, elastic=0.3, blur=0.0, rotate=0.15, slant=0.4, small=0.0,
                               writers=True),
    # Clean fonts only, for sample grids and tests.
    "typeset": StyleMix(pen=0.0, scan=0.0, elastic=0.0, blur=0.0, rotate=0.0, slant=0.0, bold=0.0, thin=0.0,
                        small=0.0),
}


@dataclass
class _Sample:
    char: str
    source: str = "font"          # font | pen
    font: int = -1
    scan: bool = False
    elastic: float = 0.0
    blur: float = 0.0
    rotation: float = 0.0
    shear: float = 0.0
    aspect: float = 1.0
    grow: int = 0
    pen_width: float = 2.5
    wobble: float = 1.0
    height: float = 26.0
    shift_px: float = 0.8
    shift: tuple[float, float] = (0.0, 0.0)
    writer: "Writer | None" = None
    tags: list[str] = field(default_factory=list)


def _sample_style(ch: str, mix: StyleMix, fonts: Sequence[FontInfo], font_idx: Sequence[int],
                  rng: np.random.Generator) -> _Sample:
    st = _Sample(char=ch)
    u = rng.random(12)
    st.source = "pen" if (ch in _PEN and u[0] < mix.pen) else "font"
    if st.source == "font":
        st.font = int(font_idx[int(rng.integers(len(font_idx)))])
    st.scan = bool(u[1] < mix.scan)
    if u[2] < mix.rotate:
        st.rotation = float(rng.choice([-1, 1]) * rng.uniform(10, 25))
        st.tags.append("rotated")
    else:
        st.rotation = float(rng.uniform(-4, 4))
    if u[3] < mix.slant:
        st.shear = float(rng.choice([-1, 1]) * rng.uniform(0.15, 0.4))
        st.tags.append("slanted")
    else:
        st.shear = float(rng.uniform(-0.08, 0.08))
    st.aspect = float(np.exp(rng.uniform(-0.25, 0.2)))
    if u[4] < mix.bold:
        st.grow, st.pen_width = 2, float(rng.uniform(3.5, 5.0))
        st.tags.append("bold")
    elif u[5] < mix.thin / max(1e-9, 1 - mix.bold):
        st.grow, st.pen_width = -1, float(rng.uniform(1.2, 1.8))
        st.tags.append("thin")
    else:
        st.pen_width = float(rng.uniform(2.0, 3.4))
    if st.scan:
        # optdigits fills the 32x32 frame and has fat strokes.
        st.height = float(rng.uniform(25, 30))
        st.pen_width = max(st.pen_width, float(rng.uniform(4.0, 6.5)))
        st.grow = max(st.grow, 1)
        st.aspect *= 0.85
    elif u[6] < mix.small:
        st.height = float(rng.uniform(12, 18))
        st.tags.append("small")
    else:
        st.height = float(rng.uniform(22, 29))
    if st.source == "font" and u[7] < mix.elastic:
        st.elastic = float(rng.uniform(0.8, 2.0))
        st.tags.append("wobbly")
    if not st.scan and u[8] < mix.blur:
        st.blur = float(rng.uniform(0.5, 1.0))
        st.tags.append("blurry")
    st.wobble = float(rng.uniform(0.6, 1.4))
    st.shift = (float(rng.normal(0, st.shift_px)), float(rng.normal(0, st.shift_px)))
    if mix.writers and st.source == "pen":
        _take_writer(st, sample_writer(ch, rng, scan=st.scan))
    return st


def _take_writer(st: _Sample, w: Writer) -> None:
    """The writer decides the look; the caption's style words follow what it drew."""
    st.writer, st.rotation, st.shear, st.height, st.blur, st.elastic = w, w.rotation, w.slant, w.height, 0.0, 0.0
    st.tags = [t for t, on in (("bold", w.pen_width > 4.5), ("thin", w.pen_width < 2.2),
                               ("small", not st.scan and w.height < 20), ("wobbly", w.elastic > 1.2 or w.care > 0.05),
                               ("slanted", abs(w.slant) > 0.25), ("rotated", abs(w.rotation) > 10)) if on]


def _meta(st: _Sample, fonts: Sequence[FontInfo]) -> dict:
    meta = {"char": st.char, "source": st.source, "scan": st.scan, "tags": list(st.tags),
            "rotation": round(st.rotation, 2), "shear": round(st.shear, 3), "height": round(st.height, 1)}
    if st.writer is not None:
        meta["writer"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(st.writer).items()}
    if st.source == "font":
        f = fonts[st.font]
        meta.update(font=f.family, font_style=f.style, font_kind=f.kind, font_bold=f.bold, font_italic=f.italic)
    return meta


def caption_for(meta: dict, rng: np.random.Generator | None = None) -> str:
    """A clean caption naming the character and its style, e.g. "a low-res scan of a handwritten 7"."""
    rng = rng or np.random.default_rng(0)
    ch = meta["char"]
    adj = [t for t in meta["tags"] if t in ("bold", "thin", "blurry", "small", "wobbly", "slanted", "rotated")]
    if meta["source"] == "pen":
        what = "handwritten"
    else:
        kind = meta["font_kind"]
        what = {"serif": "printed", "sans": "printed", "mono": "typewritten", "script": "cursive",
                "handwriting": "handwritten"}[kind]
        if meta.get("font_bold") and "bold" not in adj:
            adj.append("bold")
        if meta.get("font_italic"):
            adj.append("italic")
    adj = [a for a in adj if a not in ("slanted", "rotated")] + [a for a in adj if a in ("slanted", "rotated")]
    words = " ".join(adj[:2] + [what])
    font_part = ""
    if meta["source"] == "font" and meta["font_kind"] in ("serif", "sans", "mono") and rng.random() < 0.5:
        font_part = {"serif": " in a serif font", "sans": " in a sans-serif font", "mono": " in a monospace font"}[
            meta["font_kind"]]
    article = "an" if words[0] in "aeiou" else "a"
    if meta["scan"]:
        return f"a low-res scan of {article} {words} {ch}{font_part}"
    return f"{article} {words} {ch}{font_part}"


def render_glyphs(chars: Sequence[str], seed: int, styles: StyleMix | str | None = None, size: int = 16,
                  fonts: Sequence[FontInfo] | None = None, start: int = 0
                  ) -> list[tuple[Image.Image, str, dict]]:
    """Draw ``chars[i]`` as image ``start + i`` of the stream ``seed``: (PIL 'L' image size x size, caption, meta).

    ``styles``: a :class:`StyleMix` or the name of one in :data:`STYLE_MIXES` (default "generator").
    White ink on black, like the real digits.
    """
    mix = STYLE_MIXES[styles or "generator"] if not isinstance(styles, StyleMix) else styles
    fonts = tuple(fonts) if fonts is not None else font_catalog()
    if not fonts:
        from ...errors import DataError

        raise DataError("no usable font found", "install fonts-dejavu or matplotlib")
    font_idx = [i for i, f in enumerate(fonts) if mix.font_kinds is None or f.kind in mix.font_kinds] or list(
        range(len(fonts)))
    out = []
    for i, ch in enumerate(chars):
        rng = np.random.default_rng([seed, start + i])
        st = _sample_style(ch, mix, fonts, font_idx, rng)
        arr = None
        if st.source == "font":
            arr = _draw_font(ch, st, fonts)
            tries = 0
            while arr is None and tries < len(fonts):  # this font lacks the glyph: take the next one
                st.font = (st.font + 1) % len(fonts)
                arr, tries = _draw_font(ch, st, fonts), tries + 1
        elif st.writer is not None:
            arr = _draw_writer(ch, st.writer, rng)
        else:
            arr = _draw_pen(ch, st, rng)
        if st.elastic:
            arr = _elastic(arr, st.elastic, rng)
        if st.scan:
            scanned = scan_8x8(arr) if st.writer is None else scan_writer(arr, st.writer)
            im = to_size(Image.fromarray(scanned), size)
        else:
            im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
            if st.blur:
                im = im.filter(ImageFilter.GaussianBlur(st.blur * CANVAS / max(size, 1) / 2))
            im = to_size(im, size)
        meta = _meta(st, fonts)
        out.append((im, caption_for(meta, rng), meta))
    return out


def random_chars(n: int, seed: int, alphabet: Sequence[str] = DIGITS) -> list[str]:
    rng = np.random.default_rng([seed, 7919])
    return [alphabet[int(k)] for k in rng.integers(len(alphabet), size=n)]


def to_array(images: Sequence[Image.Image]) -> np.ndarray:
    """(N, H, W) uint8."""
    return np.stack([np.asarray(im, dtype=np.uint8) for im in images])


def grid(images: Sequence[Image.Image], cols: int, scale: int = 3) -> Image.Image:
    """Tile images into one picture for logs and reports."""
    if not images:
        return Image.new("L", (1, 1))
    w, h = images[0].size
    rows = (len(images) + cols - 1) // cols
    sheet = Image.new("L", (cols * (w + 1), rows * (h + 1)), 60)
    for k, im in enumerate(images):
        sheet.paste(im.convert("L").resize((w, h)), ((k % cols) * (w + 1), (k // cols) * (h + 1)))
    return sheet.resize((sheet.width * scale, sheet.height * scale), Image.NEAREST)
