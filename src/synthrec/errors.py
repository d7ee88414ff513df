"""Errors that reach users.

Every error names the problem and the fix in one line, so the CLI can print it without a traceback.
"""
from __future__ import annotations


class SynthrecError(Exception):
    """Base class: ``str(err)`` is one line, "<problem>. <fix>"."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem.rstrip(".")
        self.fix = fix
        super().__init__(f"{self.problem}. {fix}" if fix else f"{self.problem}.")


class ConfigError(SynthrecError):
    """A configuration value or key is wrong."""


class LabelSpaceError(SynthrecError):
    """Class names are missing, empty, duplicated or unsafe."""


class ModelLoadError(SynthrecError):
    """A model id or path cannot be loaded."""


class DataError(SynthrecError):
    """Input data (images, folders, datasets) is missing or unreadable."""


class RunFolderError(SynthrecError):
    """A run folder belongs to another configuration or is damaged."""


class AdapterError(ModelLoadError):
    """A LoRA or textual-inversion file is unreadable or was made for another base model."""


class DiskFullError(SynthrecError):
    """The disk filled up while a file was written; finished files are intact."""


class RayUnavailableError(SynthrecError, ImportError):
    """The ray executor was asked for but ray is not installed."""


class NoSyntheticDataError(DataError):
    """A few-shot strategy's synthetic set came out empty (e.g. Real Filtering dropped every image)."""


class RunFolderBusyError(RunFolderError):
    """Another live process holds the run folder's lock (or its workers still write there)."""


class DamagedCacheError(DataError):
    """A feature cache file holds values no encoder writes (NaN, infinity): it is rebuilt."""

    def __init__(self, chunk: str, path):
        super().__init__(f"feature cache file {path} holds NaN or infinite values (damaged)",
                         "it is deleted and its images are encoded again")
        self.chunk, self.path = chunk, path
class CheckpointError(SynthrecError):
    """A pre-training checkpoint is missing, damaged, or made for another model."""


class PreflightError(SynthrecError):
    """Problems a config's checks found before any work started (``synthrec check``); one line each."""

    def __init__(self, problems):
        self.problems = list(problems)
        # The CLI prefixes "error: " once; each further problem gets its own "error: " line.
        super().__init__("\nerror: ".join(str(p) for p in self.problems).rstrip("."))
