"""Assertion status of clinical chunks: present, absent, possible, hypothetical, conditional,
associated_with_someone_else (ConText rules over sparkner's tokens)."""

from sparkner.assertion.context import (
    ABSENT,
    CONDITIONAL,
    HYPOTHETICAL,
    LABELS,
    POSSIBLE,
    PRESENT,
    SOMEONE_ELSE,
    ContextRules,
    Rule,
    assert_chunks,
    bundled_rules,
    load_rules,
)
from sparkner.assertion.scoring import AssertionScores, LabelScore, score_assertions

__all__ = [
    "ABSENT",
    "CONDITIONAL",
    "HYPOTHETICAL",
    "LABELS",
    "POSSIBLE",
    "PRESENT",
    "SOMEONE_ELSE",
    "AssertionScores",
    "ContextRules",
    "LabelScore",
    "Rule",
    "assert_chunks",
    "bundled_rules",
    "load_rules",
    "score_assertions",
]
