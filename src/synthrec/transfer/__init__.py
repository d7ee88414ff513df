"""Transfer of pre-trained backbones to a real task (METHOD.md §4.2): classification fine-tuning with the paper's
CIFAR-100 recipe, comparing scratch, synthetic-pretrained and real-pretrained inits in one table.
"""
from ..config.schema import TransferConfig


def run_transfer(*args, **kwargs):
    from .run import run_transfer as _run

    return _run(*args, **kwargs)


__all__ = ["TransferConfig", "run_transfer"]
