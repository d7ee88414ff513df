"""The CLIP filter against the single-thread decode floor on the same files (issue 15, target 2: >= 0.8x).

The floor is the least any filter must do, on one thread: open each shard tar once, read every image, check its
sha256, decode it and preprocess it for the encoder (no model). The filter arm is ``run_filter`` on the same
generate folder (fresh feature cache, so every image is decoded and encoded; text embeddings warmed first, so the
measurement is the decode path and the model). The ratio is the filter's images/s over the floor's.

Each arm runs in its own process (``_arms.py``), alternated, median of the rounds; the ``_before`` lines run the
code of ``_arms.BEFORE_REF`` on the same files. Two workloads: the glyph world's 16 px greyscale PNGs with its mini
CLIP (decode-bound, as the issue measured), and 256 px RGB PNGs with a tiny random open_clip at 224 px.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import _arms
from _common import arms_with_before, build_generated, skipped_before_line, smooth_bases

DRIVER = r'''
import hashlib, io, json, sys, tarfile, tempfile, time
from pathlib import Path

arm, folder, spec = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
names = json.loads(sys.argv[4])
from synthrec.features import create_encoder
from synthrec.generate import read_manifest

encoder = create_encoder(spec, device="cpu")
table = read_manifest(folder)
if arm == "floor":
    from PIL import Image

    rows = table.to_pylist()

    def once():
        by_tar = {}
        for r in rows:
            by_tar.setdefault(r["path"], []).append(r)
        for path, shard_rows in by_tar.items():
            with tarfile.open(folder / path) as tar:
                members = {m.name.partition(".")[0]: m for m in tar.getmembers() if m.name.endswith(".png")}
                for r in shard_rows:
                    data = tar.extractfile(members[r["key"]]).read()
                    if hashlib.sha256(data).hexdigest() != r["sha256"]:
                        raise SystemExit("sha256 mismatch")
                    with Image.open(io.BytesIO(data)) as im:
                        im.load()
                        encoder.preprocess(im)
else:
    try:
        from synthrec.generate.items import generated_items
    except ImportError:  # the code of _arms.BEFORE_REF kept it elsewhere
        from synthrec._generated import generated_items
    from synthrec.config.schema import FilterConfig
    from synthrec.filter import run_filter

    encoder.encode_texts(["warm-up"])  # loads the text model outside the measurement

    def once():
        with tempfile.TemporaryDirectory() as tmp:
            run_filter(generated_items(folder, table), names, FilterConfig(encoder=spec), Path(tmp) / "out", seed=0,
                       encoder=encoder, cache_dir=Path(tmp) / "cache", progress=False)
t0 = time.perf_counter()
once()
print(json.dumps({"seconds": time.perf_counter() - t0, "images": table.num_rows}))
'''


# The code of _arms.BEFORE_REF reads only manifests with exactly its own columns: the before arm gets a copy of the
# folder whose manifests keep those columns (the image shards are the same files' bytes).
OLD_LAYOUT = r'''
import json, shutil, sys
from pathlib import Path

import pyarrow.parquet as pq

from synthrec.generate.manifest import manifest_schema

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
shutil.copytree(src, dst)
names = manifest_schema().names
for path in sorted((dst / "manifest").glob("*.parquet")):
    pq.write_table(pq.read_table(path).select(names), path)
print(json.dumps({"columns": names}))
'''


def _glyph_bases():
    import numpy as np

    from synthrec.glyph.world.render import random_chars, render_glyphs

    return [np.asarray(im) for im, _, _ in render_glyphs(random_chars(200, 0), 0, size=16)]


def _measure(name: str, folder: Path, spec: str, names: list[str], rounds: int, what: str):
    import json

    arms = {"floor": _arms.current_src(), **arms_with_before("filter", "filter_before")}
    seconds = {arm: [] for arm in arms}
    n = 0
    before_failed = None
    folders = {arm: folder for arm in arms}
    if "filter_before" in arms:
        try:
            folders["filter_before"] = folder.with_name(folder.name + "-before")
            _arms.run_python(arms["filter_before"], OLD_LAYOUT, str(folder), str(folders["filter_before"]))
        except RuntimeError:
            folders["filter_before"] = folder  # let the arm itself say why it cannot run
    for _ in range(rounds):  # alternate the arms: a shared machine slows all of them alike
        for arm, src in list(arms.items()):
            try:
                out = _arms.run_python(src, DRIVER, "floor" if arm == "floor" else "filter", str(folders[arm]),
                                       spec, json.dumps(names))
            except RuntimeError as exc:
                if arm != "filter_before":
                    raise
                # The old code may refuse folders written by today's (new manifest columns): say so, keep the
                # measurement of this checkout.
                before_failed = str(exc).strip().splitlines()[-1][:200]
                del arms[arm], seconds[arm]
                continue
            seconds[arm].append(out["seconds"])
            n = out["images"]
    floor = n / _arms.median(seconds["floor"])
    for arm in [a for a in arms if a != "floor"]:
        rate = n / _arms.median(seconds[arm])
        code = "this checkout" if arm == "filter" else f"code of {_arms.BEFORE_REF}"
        yield (f"{name}{'' if arm == 'filter' else '_before'}: {rate / floor:.2f}x {rate:,.0f} img/s vs "
               f"{floor:,.0f} img/s (filter vs the one-thread read+sha256+decode+preprocess floor; {what}; {code}; "
               f"CPU, {os.cpu_count()} cores, median of {rounds} alternated rounds; target >= 0.80x)")
    if before_failed:
        yield f"# {name}_before skipped: the code of {_arms.BEFORE_REF} failed on these files: {before_failed}"
    elif "filter_before" not in arms:
        yield skipped_before_line(name)


def run(quick: bool):
    from synthrec.glyph import world
    from synthrec.testing.tiny_clip import build_tiny_open_clip

    tmp = Path(tempfile.mkdtemp(prefix="synthrec-bench-filter-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    n_glyph, n_big, rounds = (10_000, 1_000, 3) if quick else (10_000, 4_000, 5)
    build_generated(tmp / "glyph", _glyph_bases(), n_glyph)
    yield from _measure("filter_vs_decode_floor_glyph16", tmp / "glyph", "glyph", list(world.DIGIT_CLASSNAMES),
                        rounds, f"{n_glyph:,} glyph 16 px PNGs, mini CLIP")
    build_generated(tmp / "rgb256", smooth_bases(256), n_big, per_shard=500)
    clip = build_tiny_open_clip(tmp / "tiny-clip", image_size=224, patch_size=32)
    yield from _measure("filter_vs_decode_floor_png256", tmp / "rgb256", str(clip), [f"class {i}" for i in range(10)],
                        rounds, f"{n_big:,} RGB 256 px PNGs, tiny open_clip at 224 px")
