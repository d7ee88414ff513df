"""The glyph world itself: how characters look (``render``), how the web would caption them (``captions``), and
the names and prompts of the digit task (``constants``, re-exported here). No model lives here.
"""
from .constants import (BASIC_PROMPT, DIGIT_CLASSNAMES, IMAGE_SIZE, LE_INPUT, LE_PREFIX, ZERO_SHOT_TEMPLATES,
                        basic_prompt, le_input, zero_shot_prompts)

__all__ = ["BASIC_PROMPT", "DIGIT_CLASSNAMES", "IMAGE_SIZE", "LE_INPUT", "LE_PREFIX", "ZERO_SHOT_TEMPLATES",
           "basic_prompt", "le_input", "zero_shot_prompts"]
