"""Prompts for a label space: basic, CLIP template sets, Language Enhancement (seq2seq) and WordNet enrichment."""
from .build import COLUMNS, STRATEGIES, build_prompts, read_prompts, write_prompts
from .language_enhancement import class_word_pattern, derive_seed, language_enhancement
from .templates import TEMPLATE_SETS, get_template_set, list_template_sets, register_template_set
from .wordnet import open_wordnet, wordnet_available

__all__ = ["COLUMNS", "STRATEGIES", "TEMPLATE_SETS", "build_prompts", "class_word_pattern", "derive_seed",
           "get_template_set", "language_enhancement", "list_template_sets", "open_wordnet", "read_prompts",
           "register_template_set", "wordnet_available", "write_prompts"]
