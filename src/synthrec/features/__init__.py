"""Frozen image-text encoders and the content-keyed feature cache."""
from .cache import EncodeResult, FeatureCache, FileImage, InMemoryImage, encode_items, encode_with_cache, image_sha256
from .encoders import ImageTextEncoder, create_encoder, list_encoder_prefixes, register_encoder

__all__ = ["EncodeResult", "FeatureCache", "FileImage", "ImageTextEncoder", "InMemoryImage", "create_encoder",
           "encode_items", "encode_with_cache", "image_sha256", "list_encoder_prefixes", "register_encoder"]
