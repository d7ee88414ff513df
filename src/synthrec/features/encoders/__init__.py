"""Image-text encoders behind one interface; ``create_encoder(spec)`` builds them (see ``factory``)."""
from .base import ImageTextEncoder
from .factory import ENCODERS, check_encoder_spec, create_encoder, list_encoder_prefixes, register_encoder

__all__ = ["ENCODERS", "ImageTextEncoder", "check_encoder_spec", "create_encoder", "list_encoder_prefixes",
           "register_encoder"]
