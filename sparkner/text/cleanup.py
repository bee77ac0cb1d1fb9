"""Text clean-up before a document is made: Spark NLP's ``DocumentAssembler`` cleanup modes.

Each mode is the same rewrite of the text as Spark NLP's, so a ported pipeline sees the same
document text:

- ``disabled``: the text as it is (the default; offsets index the original text);
- ``inplace``: every whitespace character (space, tab, line feed, vertical tab, form feed,
  carriage return) becomes a space: the length is unchanged;
- ``inplace_full``: as ``inplace``, and the stringified escapes ``\\n``, ``\\r\\n`` and ``\\t``
  (a backslash and a letter, as text) become one space each;
- ``shrink``: trimmed, and each run of whitespace becomes one space;
- ``shrink_full``: as ``shrink``, runs of stringified escapes included;
- ``each``: a whitespace character followed by a line feed or a tab becomes one space (Spark
  NLP's rule, as it runs: a line break with no whitespace before it is kept);
- ``each_full``: as ``each``, with the stringified escapes as the second character too;
- ``delete_full``: trimmed, and the stringified escapes are removed.

Whitespace here is Java's ``\\s`` (ASCII), and trimming is Java's ``String.trim`` (every
character up to U+0020), as in Spark NLP.
"""

from __future__ import annotations

import re

CLEANUP_MODES = (
    "disabled",
    "inplace",
    "inplace_full",
    "shrink",
    "shrink_full",
    "each",
    "each_full",
    "delete_full",
)

_SPACE = r"[ \t\n\x0b\f\r]"
# A stringified line break or tab: a backslash and the letter, as they appear in JSON dumps.
_ESCAPED = r"(?:\\r)?(?:\\n)|(?:\\t)"
_RULES: dict[str, tuple[re.Pattern[str], str, bool]] = {
    # mode: (pattern, replacement, trim first)
    "inplace": (re.compile(_SPACE), " ", False),
    "inplace_full": (re.compile(rf"{_SPACE}|{_ESCAPED}"), " ", False),
    "shrink": (re.compile(rf"{_SPACE}+"), " ", True),
    "shrink_full": (re.compile(rf"{_SPACE}+|(?:\\r)*(?:\\n)+|(?:\\t)+"), " ", True),
    "each": (re.compile(rf"{_SPACE}[\n\t]"), " ", False),
    "each_full": (re.compile(rf"{_SPACE}(?:\n|\t|{_ESCAPED})"), " ", False),
    "delete_full": (re.compile(_ESCAPED), "", True),
}
_TRIMMED = "".join(chr(c) for c in range(0x21))  # Java's String.trim: up to U+0020


def clean_text(text: str, mode: str) -> str:
    """``text`` rewritten by the cleanup ``mode`` (one of :data:`CLEANUP_MODES`)."""
    if mode == "disabled":
        return text
    if mode not in _RULES:
        raise ValueError(f"cleanupMode must be one of {CLEANUP_MODES}, got {mode!r}")
    pattern, replacement, trim = _RULES[mode]
    return pattern.sub(replacement, text.strip(_TRIMMED) if trim else text)
