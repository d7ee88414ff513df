"""Building blocks of a self-contained report: figures and images embedded as data URIs, no CDN, no scripts."""
from __future__ import annotations

import re

import base64
import html
import io
from typing import Iterable, Sequence

from PIL import Image

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.note{color:#555;font-size:.92em}.grid{display:flex;flex-wrap:wrap;gap:1em}.grid figure{margin:0}
figcaption{font-size:.85em;color:#444;text-align:center}img.px{image-rendering:pixelated}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}
"""


def esc(text: object) -> str:
    return html.escape(str(text))


def png_data_uri(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def figure_data_uri(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def img_tag(uri: str, alt: str, width: int | None = None, pixelated: bool = False) -> str:
    w = f' width="{width}"' if width else ""
    cls = ' class="px"' if pixelated else ""
    return f'<img src="{uri}" alt="{esc(alt)}"{w}{cls}>'


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_esc(value: object) -> str:
    """Text as literal Markdown: class names such as ``a|b`` or ``<img src=x>`` must not become table cells or HTML."""
    text = " ".join(str(value).split())  # a newline would end the table row
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(md_esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def image_grid(images: Sequence[Image.Image], cols: int, cell: int = 64, pad: int = 2) -> Image.Image:
    """Tile images (any size or mode) into one RGB grid, each scaled to ``cell`` pixels without smoothing."""
    rows = max(1, -(-len(images) // cols))
    grid = Image.new("RGB", (cols * (cell + pad) + pad, rows * (cell + pad) + pad), (255, 255, 255))
    for i, im in enumerate(images):
        im = im.convert("RGB")
        im.thumbnail((cell, cell), Image.NEAREST) if max(im.size) > cell else None
        if max(im.size) < cell:
            scale = cell / max(im.size)
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.NEAREST)
        r, c = divmod(i, cols)
        grid.paste(im, (pad + c * (cell + pad), pad + r * (cell + pad)))
    return grid


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")


def fmt_pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}"
