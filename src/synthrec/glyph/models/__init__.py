"""The glyph world's models: the frozen MiniLM text encoder (``text``), the mini CLIP (``clip``), the diffusion
pipeline (``pipeline``) and the Language Enhancement seq2seq model (``le``); ``weights`` says where the shipped
weights live. Submodules are imported on demand, so importing this package pulls in neither diffusers nor
transformers.
"""
from .weights import CLIP_NAME, LE_NAME, PIPELINE_NAME, WEIGHTS_ROOT, weights_dir

__all__ = ["CLIP_NAME", "LE_NAME", "PIPELINE_NAME", "WEIGHTS_ROOT", "weights_dir"]
