"""The glyph world: an offline miniature of the paper's setting (docs/glyph.md).

Three layers, each importing only the ones before it:

* ``glyph.world``: the world itself (renderer, captions, the digit task's names and prompts); no models;
* ``glyph.models``: the mini CLIP, the diffusion pipeline, the LE model and the frozen text encoder they share;
* ``glyph.training``: how those models are trained and measured (``synthrec glyph train``).

Submodules are imported on demand, so importing synthrec does not pull in diffusers or transformers.
"""
