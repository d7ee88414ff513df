"""What an export reads from a run folder: the generated images (bytes as stored), their classes and filter scores."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from ..errors import DataError, RunFolderError

Selection = Literal["filtered", "all"]
SELECTIONS = ("filtered", "all")


@dataclass(frozen=True)
class ExportRecord:
    image_id: str
    class_id: int
    class_name: str
    data: bytes            # the encoded image exactly as generated (its sha256 is the manifest's)
    image_format: str      # png, jpg or webp: the file extension to write
    prompt: str
    sha256: str
    width: int
    height: int
    p_true: float | None   # the filter's p(intended class); None when the filter did not run
    kept: bool | None      # the filter's decision; None when the filter did not run


@dataclass(frozen=True)
class RunImages:
    """The images of a run folder chosen for export, before any byte is read."""

    run_dir: Path
    classnames: list[str]
    selection: Selection
    manifest: object       # pyarrow Table: the manifest rows to export, in manifest order
    scores: dict[str, tuple[float, bool]]

    def __len__(self) -> int:
        return self.manifest.num_rows

    def per_class(self) -> list[int]:
        counts = [0] * len(self.classnames)
        for cid in self.manifest.column("class_id").to_pylist():
            counts[int(cid)] += 1
        return counts

    def __iter__(self) -> Iterator[ExportRecord]:
        from ..generate import iter_image_bytes
        from ..stages import stage_dir

        for row, data in iter_image_bytes(stage_dir(self.run_dir, "generate"), self.manifest):
            p_true, kept = self.scores.get(row["image_id"], (None, None))
            cid = int(row["class_id"])
            yield ExportRecord(row["image_id"], cid, self.classnames[cid], data, _image_format(data, row),
                               row["prompt"], row["sha256"], int(row["width"]), int(row["height"]), p_true, kept)


def read_run_images(run_dir: str | Path, selection: Selection = "filtered") -> RunImages:
    """The images to export from ``run_dir``: the filter's selection (default), or every generated image."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .. import _io
    from ..generate import read_manifest
    from ..labels import LabelSpace
    from ..stages import read_marker, stage_dir, stage_file

    run_dir = Path(run_dir)
    if selection not in SELECTIONS:
        raise DataError(f"unknown selection {selection!r}", f"use one of {', '.join(SELECTIONS)}")
    if not (run_dir / "config.yaml").is_file():
        raise RunFolderError(f"{str(run_dir)!r} is not a synthrec run folder", "pass the run_dir of a config you ran")
    labels_file = stage_file(run_dir, "labels", "labels")
    if not labels_file.is_file():
        raise RunFolderError(f"{str(run_dir)!r} has no labels/labels.json", "run `synthrec run CONFIG` first")
    classnames = list(LabelSpace.load(labels_file).names)
    if read_marker(run_dir, "generate") is None:
        raise RunFolderError(f"the generate stage of {str(run_dir)!r} is not finished",
                             "run `synthrec generate CONFIG` (or `synthrec run CONFIG`) first")
    manifest = read_manifest(stage_dir(run_dir, "generate"))
    scores_file = stage_file(run_dir, "filter", "scores")
    filtered = read_marker(run_dir, "filter") is not None and scores_file.is_file()
    scores: dict[str, tuple[float, bool]] = {}
    if filtered:
        table = _io.read_parquet(scores_file).select(["image_id", "p_true", "kept"]).to_pylist()
        scores = {r["image_id"]: (float(r["p_true"]), bool(r["kept"])) for r in table}
    if selection == "filtered":
        if not filtered:
            raise RunFolderError(f"the filter stage of {str(run_dir)!r} is not finished, so there is no selection",
                                 "run `synthrec filter CONFIG` first, or export everything with --selection all")
        kept_ids = pa.array([i for i, (_, kept) in scores.items() if kept], pa.string())
        manifest = manifest.filter(pc.is_in(manifest.column("image_id"), value_set=kept_ids))
    if manifest.num_rows == 0:
        raise DataError(f"{str(run_dir)!r} has no {'kept ' if selection == 'filtered' else ''}images to export",
                        "lower filter.threshold or export with --selection all" if selection == "filtered"
                        else "run the generate stage first")
    return RunImages(run_dir, classnames, selection, manifest, scores)


def _image_format(data: bytes, row: dict) -> str:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            fmt = (img.format or "").lower()
    except Exception:  # PIL raises many types for a bad file
        raise DataError(f"image {row['image_id']} ({row['path']}) is not a readable image",
                        "run generate again into a new folder") from None
    return {"jpeg": "jpg"}.get(fmt, fmt)
