"""``synthrec demo``: the paper's zero-shot experiment in the offline glyph world (``run``); its configs come from
the bundled ``synthrec/configs/demo.yaml`` and its report is written by ``synthrec.report.demo``."""
from .run import run_demo

__all__ = ["run_demo"]
