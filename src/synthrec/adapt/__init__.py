"""Adapting the generator to real shots: LoRA (DataDream) and textual inversion (DA-Fusion).

    from synthrec.adapt import LoraSettings, ensure_lora, ensure_tokens, adapted

Adapters train through diffusers' and peft's own LoRA / textual-inversion support on a loaded pipeline (Stable
Diffusion-like or the glyph world's), are saved as safetensors that plain diffusers loads (``load_lora_weights``,
``load_textual_inversion``), are keyed by content (shots, base model, settings, seed) and reused when unchanged.
"""
from ._backbone import base_fingerprint
from .adapters import adapter_key, ensure_lora, ensure_tokens
from .files import check_adapter, read_info
from .generator import AdaptedGenerator, adapted
from .lora import LoraSettings, load_lora, train_lora
from .textual_inversion import TextualInversionSettings, load_tokens, token_for, train_token, unload_tokens

__all__ = ["AdaptedGenerator", "LoraSettings", "TextualInversionSettings", "adapted", "adapter_key",
           "base_fingerprint", "check_adapter", "ensure_lora", "ensure_tokens", "load_lora", "load_tokens",
           "read_info", "token_for", "train_lora", "train_token", "unload_tokens"]
