"""Evaluation of classifier heads on a real test set: top-1 overall and per class."""
from .metrics import top1_report
from .run import METRICS_FILE, evaluate_heads

__all__ = ["METRICS_FILE", "evaluate_heads", "top1_report"]
