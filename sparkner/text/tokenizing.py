"""Tokenizing rules: clinical-aware token spans of a text, and of a batch of sentences.

Kept whole: doses and decimals ("2.5", "1,000"), vitals and dates ("120/80", "11/24/2026",
"10:30"), hyphenated terms ("x-ray", "non-small-cell", "71-year-old"), dotted abbreviations
("b.i.d.", "p.o.", "e.g.") and known abbreviations ("Dr.", "vs."). Split off: units glued to
numbers ("10mg" -> "10", "mg"), percent signs, brackets, slashes between words and every other
punctuation mark.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import TOKEN, AnnotationBatch, build_annotations
from sparkner.text.abbreviations import TOKEN_ABBREVIATIONS
from sparkner.text.java_regex import compile_java
from sparkner.text.rule_tokenizing import RuleSet, rule_token_spans, split_spans


@dataclass(frozen=True)
class TokenRules:
    """The settings of tokenization (hashable, so the compiled pattern can be cached)."""

    exceptions: tuple[str, ...] = ()
    case_sensitive_exceptions: bool = True
    split_chars: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = TOKEN_ABBREVIATIONS
    min_length: int = 0
    max_length: int = 0
    # Whether "didn't", "Jane's" split before the clitic ("didn", "'t"); False keeps them
    # whole, as Spark NLP's tokenizer does.
    split_clitics: bool = True
    # Tokens are cut at its matches, the separators dropped (Spark NLP's splitPattern).
    split_pattern: str | None = None
    # Spark NLP's rules instead of the clinical ones (see sparkner.text.rule_tokenizing).
    spark_nlp: RuleSet | None = None


@lru_cache(maxsize=1)
def _combining_marks() -> str:
    """A character-class body of every combining mark (Unicode categories Mn, Mc, Me).

    Python's ``\\w`` leaves them out, so without them "e\\u0301" (a decomposed "é") or any
    Devanagari word would fall apart into letters and lone marks.
    """
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


@lru_cache(maxsize=32)
def token_pattern(rules: TokenRules) -> re.Pattern[str]:
    """One regular expression whose matches, left to right, are the tokens."""
    split = set("".join(rules.split_chars))

    def joiners(chars: str) -> str:
        kept = "".join(c for c in chars if c not in split)
        return re.escape(kept) if kept else ""

    number_join = joiners(".,:/")
    hyphen = "-" not in split
    alternatives = []
    exceptions = sorted(set(rules.exceptions) - {""}, key=len, reverse=True)
    if exceptions:
        # An exception ending in a word character must end the word too: "PCR" is no
        # exception in "PCRs" (it would leave "s" as a token of its own).
        body = "|".join(
            re.escape(e) + (r"(?!\w)" if re.match(r"\w", e[-1]) else "") for e in exceptions
        )
        alternatives.append(body if rules.case_sensitive_exceptions else f"(?i:{body})")
    if "." not in split:
        # "b.i.d.", "p.o.", "e.g.": letters each followed by a period.
        alternatives.append(r"(?<![\w.])(?:[A-Za-z]\.){2,}")
        if rules.abbreviations:
            names = "|".join(
                re.escape(a) for a in sorted(set(rules.abbreviations), key=len, reverse=True)
            )
            alternatives.append(rf"(?<![\w.])(?i:{names})\.(?!\w)")
    # Word characters, then any combining marks with more word characters; the cheap
    # non-ASCII lookahead keeps the large mark class off the common path.
    word_rest = rf"\w*(?:(?=[^\x00-\x7f])[{_combining_marks()}]+\w*)*"
    hyphen_tail = rf"(?:-(?=\w)\w{word_rest})*" if hyphen else ""
    number = rf"\d+(?:[{number_join}]\d+)*" if number_join else r"\d+"
    alternatives.append(r"\d+(?:st|nd|rd|th)(?![^\W\d_])")  # ordinals "2nd"
    if hyphen:
        alternatives.append(number + r"(?:-(?=\w)\w+)+")  # "71-year-old", "5-FU"
    alternatives.append(number)  # "10mg" -> "10", then "mg"
    if "." not in split:
        alternatives.append(r"(?<![\w.])\.\d+")  # ".5 mg"
    clitic = r"['’](?i:s|re|ve|ll|d|m|t)(?!\w)"
    if rules.split_clitics:
        alternatives.append(rf"(?<=\w){clitic}")  # "patient's" -> "patient", "'s"
    else:
        alternatives.append(rf"[^\W\d_]{word_rest}{clitic}")  # "didn't", "Jane's" whole
    alternatives.append(rf"[^\W\d_]{word_rest}{hyphen_tail}")
    alternatives.append(rf"[_\d]{word_rest}")
    if "." not in split:  # a split "." separates always, in an ellipsis too
        alternatives.append(r"\.{2,}")  # an ellipsis stays one token
    alternatives.append(r"\S")
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def tokenize_text(text: str, rules: TokenRules = TokenRules()) -> list[tuple[int, int]]:
    """Token spans of one text as ``(begin, end)`` with ``end`` exclusive."""
    spans = _spans(text, rules)
    if rules.min_length or rules.max_length:
        spans = [(b, e) for b, e in spans if _length_ok(e - b, rules)]
    return spans


def _spans(text: str, rules: TokenRules) -> list[tuple[int, int]]:
    """Every token span of one text, before the length filter."""
    splitter = compile_java(rules.split_pattern) if rules.split_pattern else None
    if rules.spark_nlp is not None:
        if splitter is None and rules.split_chars:
            # Spark NLP splits at the last character of each (so "\\." is ".").
            chars = "".join(re.escape(c[-1]) for c in rules.split_chars if c)
            splitter = re.compile(f"[{chars}]")
        return rule_token_spans(text, rules.spark_nlp, _exception_pattern(rules), splitter)
    spans = [m.span() for m in token_pattern(rules).finditer(text)]
    if splitter is not None:
        spans = [piece for b, e in spans for piece in split_spans(text, b, e, splitter)]
    return spans


@lru_cache(maxsize=32)
def _exception_pattern(rules: TokenRules) -> re.Pattern[str] | None:
    """The exceptions as one pattern (longest first), for Spark NLP's rules."""
    exceptions = sorted(set(rules.exceptions) - {""}, key=len, reverse=True)
    if not exceptions:
        return None
    flags = 0 if rules.case_sensitive_exceptions else re.IGNORECASE
    return re.compile("|".join(re.escape(e) for e in exceptions), flags)


def _length_ok(length: int, rules: TokenRules) -> bool:
    return length >= rules.min_length and (rules.max_length <= 0 or length <= rules.max_length)


def tokenize(sentences: pa.Array, rules: TokenRules) -> pa.Array:
    """Tokens of every sentence in a batch, with the sentence's number as metadata."""
    batch = AnnotationBatch(sentences)
    pattern = token_pattern(rules)
    plain = rules.spark_nlp is None and not rules.split_pattern
    filter_length = bool(rules.min_length or rules.max_length)
    begins: list[int] = []
    results: list[str] = []
    per_sentence = np.zeros(len(batch), dtype=np.int64)
    for i, (text, offset) in enumerate(zip(batch.result, batch.begin.tolist(), strict=True)):
        before = len(begins)
        if plain:
            for m in pattern.finditer(text):
                token = m.group()
                if filter_length and not _length_ok(len(token), rules):
                    continue
                begins.append(offset + m.start())
                results.append(token)
        else:
            for b, e in _spans(text, rules):
                if filter_length and not _length_ok(e - b, rules):
                    continue
                begins.append(offset + b)
                results.append(text[b:e])
        per_sentence[i] = len(begins) - before
    begin = np.asarray(begins, dtype=np.int64)
    end = begin + np.fromiter(map(len, results), dtype=np.int64, count=len(results)) - 1
    row_counts = np.bincount(batch.row_of(), weights=per_sentence, minlength=batch.num_rows)
    row_offsets = np.concatenate([[0], np.cumsum(row_counts.astype(np.int64))])
    sentence = np.repeat(batch.int_metadata("sentence"), per_sentence)
    return build_annotations(TOKEN, row_offsets, begin, end, results, {"sentence": sentence})


def read_exceptions(path: str | os.PathLike[str]) -> list[str]:
    """The exceptions in a UTF-8 text file, one a line; blank lines are skipped and the
    ends of lines trimmed. A line that is not text is refused with its number."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such exceptions file")
    found: list[str] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not UTF-8 text ({exc.reason})") from None
            bad = next((c for c in line if unicodedata.category(c) in ("Cc", "Cs")), None)
            if bad is not None:
                raise ValueError(
                    f"{path}, line {number}: holds the control character {bad!r}; an exception "
                    f"is one line of text"
                )
            if line:
                found.append(line)
    return found
