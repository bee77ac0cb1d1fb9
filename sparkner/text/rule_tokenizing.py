"""Spark NLP's tokenizing rules: candidates, then prefix + infix + suffix rules per candidate.

A Tokenizer given any of Spark NLP's rule settings (``targetPattern``, ``infixPatterns``,
``prefixPattern``, ``suffixPattern``, ``contextChars``) tokenizes as Spark NLP's does,
instead of by sparkner's clinical rules:

1. The text is cut into candidates by ``targetPattern`` (default ``\\S+``: runs of non-space);
   an exception's match is a candidate of its own, whatever it holds.
2. Each candidate is matched against the rules ``prefix + infix + suffix``, one per infix
   pattern in order; the first rule that matches gives the tokens, one per regex group
   (empty groups give none). The prefix defaults to a run of context characters at the start
   (``\\A([ctx]*)``), the suffix to one at the end (``([ctx]*)\\z``), and the infix to
   everything between (``([^ctx](?:.*[^ctx])*)``), so "didn't" and "Jane's" stay whole and
   "that." gives "that", ".". A candidate no rule matches is one token.
3. A token containing ``splitPattern`` (or, without it, one of ``splitChars``) is split there,
   the separators dropped: ``setSplitPattern("-|#")`` makes "this-text#now" three tokens.

Patterns are Java's (:mod:`sparkner.text.java_regex`). Offsets are the text's own: each
token is a slice of the sentence at the position of its group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sparkner.text.java_regex import compile_java

DEFAULT_CONTEXT_CHARS = (".", ",", ";", ":", "!", "?", "*", "-", "(", ")", '"', "'")
DEFAULT_TARGET_PATTERN = r"\S+"


@dataclass(frozen=True)
class RuleSet:
    """Spark NLP's rule settings (hashable: the compiled rules are cached)."""

    target_pattern: str = DEFAULT_TARGET_PATTERN
    context_chars: tuple[str, ...] = DEFAULT_CONTEXT_CHARS
    infix_patterns: tuple[str, ...] = ()  # empty: the default infix
    prefix_pattern: str | None = None
    suffix_pattern: str | None = None


def check_rule_set(rules: RuleSet) -> None:
    """Refuse settings Spark NLP refuses: a prefix not anchored with ``\\A``, a suffix not
    anchored with ``\\z``, an infix without a group, a context "char" of another length."""
    if rules.prefix_pattern is not None and not rules.prefix_pattern.startswith("\\A"):
        raise ValueError(f"prefixPattern must begin with \\A, got {rules.prefix_pattern!r}")
    if rules.suffix_pattern is not None and not rules.suffix_pattern.endswith("\\z"):
        raise ValueError(f"suffixPattern must end with \\z, got {rules.suffix_pattern!r}")
    for infix in rules.infix_patterns:
        if "(" not in infix or ")" not in infix:
            raise ValueError(
                f"infixPatterns must use regex groups (each group is a token), got {infix!r}"
            )
    for char in rules.context_chars:
        if len(char) != 1:
            raise ValueError(f"contextChars must be single characters, got {char!r}")


@lru_cache(maxsize=32)
def compiled_rules(rules: RuleSet) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]:
    """The candidate pattern and the rules, in the order they are tried."""
    check_rule_set(rules)
    quoted = "".join(re.escape(c) for c in rules.context_chars)
    # With no context characters, "[]" would be no class at all: a class nothing matches.
    context = f"[{quoted}]" if quoted else r"(?!)"
    not_context = f"[^{quoted}]" if quoted else r"[\s\S]"
    prefix = rules.prefix_pattern or rf"\A({context}*)"
    suffix = rules.suffix_pattern or rf"({context}*)\z"
    infixes = rules.infix_patterns or (rf"({not_context}(?:.*{not_context})*)",)
    compiled = tuple(compile_java(prefix + infix + suffix, re.DOTALL) for infix in infixes)
    return compile_java(rules.target_pattern), compiled


def split_spans(
    text: str, begin: int, end: int, splitter: re.Pattern[str] | None
) -> list[tuple[int, int]]:
    """``text[begin:end]`` cut at every match of ``splitter`` (separators dropped)."""
    if splitter is None:
        return [(begin, end)]
    spans, start = [], begin
    for m in splitter.finditer(text, begin, end):
        if m.end() == m.start():
            continue  # an empty match separates nothing
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, end))
    return [(b, e) for b, e in spans if e > b]


def rule_token_spans(
    text: str,
    rules: RuleSet,
    exceptions: re.Pattern[str] | None,
    splitter: re.Pattern[str] | None,
) -> list[tuple[int, int]]:
    """Token spans of one text (``end`` exclusive) by Spark NLP's rules (module doc)."""
    target, compiled = compiled_rules(rules)
    protected = [m.span() for m in exceptions.finditer(text)] if exceptions else []
    spans: list[tuple[int, int]] = []
    position = 0
    for lo, hi in [*protected, (len(text), len(text))]:
        for candidate in target.finditer(text, position, lo):
            if candidate.end() > candidate.start():
                spans.extend(_candidate_spans(text, candidate, compiled, splitter))
        if hi > lo:
            spans.append((lo, hi))
        position = hi
    return spans


def _candidate_spans(
    text: str,
    candidate: re.Match[str],
    compiled: tuple[re.Pattern[str], ...],
    splitter: re.Pattern[str] | None,
) -> list[tuple[int, int]]:
    piece = candidate.group()
    offset = candidate.start()
    for rule in compiled:
        m = rule.search(piece)
        if m is None:
            continue
        spans: list[tuple[int, int]] = []
        for group in range(1, (m.re.groups or 0) + 1):
            b, e = m.span(group)
            if b < 0 or e <= b:
                continue
            spans.extend(split_spans(text, offset + b, offset + e, splitter))
        return spans
    return split_spans(text, offset, candidate.end(), splitter)
