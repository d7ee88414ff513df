"""The CLIP filter (CF): score generated images by CLIP zero-shot confidence, de-duplicate, select per class."""
from .items import FilterItem, items_from_files
from .rule import Selection, default_threshold, select
from .run import SCORES_FILE, SELECTION_FILE, SUMMARY_FILE, FilterResult, run_filter
from .score import Scores, score_features

__all__ = ["FilterItem", "FilterResult", "SCORES_FILE", "SELECTION_FILE", "SUMMARY_FILE", "Scores", "Selection",
           "default_threshold", "items_from_files", "run_filter", "score_features", "select"]
