"""The glyph world: an offline miniature of the paper's setting (docs/glyph.md).

Submodules are imported on demand (``synthrec.glyph.clip``, ``.pipeline``, ``.le``, ``.render``, ``.world``) so that
importing synthrec does not pull in diffusers or transformers.
"""
