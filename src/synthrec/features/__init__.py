"""Frozen image-text encoders and the content-keyed feature cache."""
from .cache import EncodeResult, FeatureCache, FileImage, InMemoryImage, encode_items, encode_with_cache, image_sha256
from .encoders import ImageTextEncoder, create_encoder, list_encoder_prefixes, register_encoder
from .items import ImageItem, cache_items

__all__ = ["EncodeResult", "FeatureCache", "FileImage", "ImageItem", "ImageTextEncoder", "InMemoryImage",
           "cache_items", "create_encoder", "encode_items", "encode_with_cache", "image_sha256", "list_encoder_prefixes",
           "register_encoder"]
