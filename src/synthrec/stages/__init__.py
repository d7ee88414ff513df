"""The stages of a run: their definitions (``registry``: one entry per stage) and the bookkeeping of finished stages
in a run folder (``markers``). The functions that run them are named by their definitions and imported only when
a stage runs (the built-in ones live in ``synthrec.runners``), so everything may import this package."""
from .markers import MARKER, is_done, mark_done, prepare, read_marker, stage_dir
from .registry import (GENERATE_SPEED_ONLY, STAGE_NAMES, STAGES, Stage, get_stage, section_settings, stage_file,
                       stage_keys)

__all__ = ["GENERATE_SPEED_ONLY", "MARKER", "STAGES", "STAGE_NAMES", "Stage", "get_stage", "is_done", "mark_done",
           "prepare", "read_marker", "section_settings", "stage_dir", "stage_file", "stage_keys"]
