"""DocumentAssembler cleanup modes: Spark NLP's rewrites of the text."""

from __future__ import annotations

import pytest

from sparkner.text.cleanup import CLEANUP_MODES, clean_text

TEXT = "  a\tb\n\nc \\n d \\t e  "  # real tab and line breaks, then stringified ones


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("disabled", TEXT),
        ("inplace", "  a b  c \\n d \\t e  "),
        ("inplace_full", "  a b  c   d   e  "),
        ("shrink", "a b c \\n d \\t e"),
        ("shrink_full", "a b c   d   e"),
        ("each", "  a\tb c \\n d \\t e  "),
        ("each_full", "  a\tb c  d  e  "),
        ("delete_full", "a\tb\n\nc  d  e"),
    ],
)
def test_each_mode_rewrites_as_spark_nlp(mode, expected):
    assert clean_text(TEXT, mode) == expected


def test_inplace_keeps_the_length_and_unknown_modes_are_refused():
    text = "x\r\ny\x0bz\x0c"
    assert len(clean_text(text, "inplace")) == len(text)
    assert set(CLEANUP_MODES) == {
        "disabled", "inplace", "inplace_full", "shrink", "shrink_full", "each", "each_full",
        "delete_full",
    }  # fmt: skip
    with pytest.raises(ValueError, match="cleanupMode must be one of"):
        clean_text(text, "squash")


def test_unicode_whitespace_is_not_java_whitespace():
    """Java's \\s is ASCII: a no-break space or a line separator stays (as in Spark NLP)."""
    assert clean_text("a\u00a0b\u2028c", "shrink") == "a\u00a0b\u2028c"
