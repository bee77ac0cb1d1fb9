"""Dictionary (lexicon) matching: term lists with a class per term, matched over tokens."""

from sparkner.lexicon.matcher import (
    MAX_TERM_TOKENS,
    Lexicon,
    LexiconError,
    build_lexicon,
    match_lexicon,
    match_words,
    normalize_tokens,
    token_class_labels,
    token_classes,
)
from sparkner.lexicon.store import bundled_lexicon, load_lexicon, read_header, write_lexicon

__all__ = [
    "MAX_TERM_TOKENS",
    "Lexicon",
    "LexiconError",
    "build_lexicon",
    "bundled_lexicon",
    "load_lexicon",
    "match_lexicon",
    "match_words",
    "normalize_tokens",
    "read_header",
    "token_class_labels",
    "token_classes",
    "write_lexicon",
]
