"""Reports: report.html (self-contained) and report.md from a run folder's files."""
from .run_report import write_report

__all__ = ["write_report"]
