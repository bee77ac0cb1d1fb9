"""Regular-expression rules over sentences (Spark NLP's ``RegexMatcher``).

A rule is a pattern (Java syntax, :mod:`sparkner.text.java_regex`) and an identifier. Every
sentence (or document) annotation is searched by each rule in turn, by one of Spark NLP's
strategies: ``MATCH_ALL`` (every match), ``MATCH_FIRST`` (each rule's first match) or
``MATCH_COMPLETE`` (a rule that matches the whole sentence). Each match is a ``chunk`` of the
matched text, its offsets the text's own, with metadata ``identifier`` (and ``entity``, the
same, so that chunk mergers and converters read it as an entity type), ``sentence`` and
``chunk`` (its number in the row). Empty matches give no chunk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import CHUNK, AnnotationBatch, build_annotations
from sparkner.text.java_regex import JavaRegexError, compile_java
from sparkner.text.spans import row_offsets_of

STRATEGIES = ("MATCH_ALL", "MATCH_FIRST", "MATCH_COMPLETE")


def parse_rule(line: str, delimiter: str, where: str) -> tuple[str, str]:
    """``pattern<delimiter>identifier`` (split at the last delimiter, so a pattern may hold
    it); the error names ``where`` (a file and line, or the setting)."""
    pattern, found, identifier = line.rpartition(delimiter)
    if not found or not pattern or not identifier.strip():
        raise ValueError(f"{where}: expected 'pattern{delimiter}identifier'")
    try:
        compile_java(pattern)
    except JavaRegexError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return pattern, identifier.strip()


def read_rules(path: str, delimiter: str) -> list[str]:
    """The rule lines of a UTF-8 file (blank lines skipped), each checked; errors name the
    file and line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such rules file")
    lines = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not UTF-8 text ({exc.reason})") from None
            if line.strip():
                parse_rule(line, delimiter, f"{path}, line {number}")
                lines.append(line)
    return lines


@lru_cache(maxsize=32)
def compiled_rules(
    rules: tuple[str, ...], delimiter: str
) -> tuple[tuple[re.Pattern[str], str], ...]:
    parsed = [parse_rule(r, delimiter, f"rule {i}") for i, r in enumerate(rules)]
    return tuple((compile_java(p), identifier) for p, identifier in parsed)


def match_rules(
    sentences: pa.Array,
    *,
    rules: tuple[str, ...],
    delimiter: str = ",",
    strategy: str = "MATCH_ALL",
) -> pa.Array:
    """The rules' matches in every sentence of a batch, as ``chunk`` annotations."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    compiled = compiled_rules(rules, delimiter)
    batch = AnnotationBatch(sentences)
    rows = batch.row_of()
    sentence_ids = batch.metadata("sentence", "0").to_pylist()
    found: list[tuple[int, int, int, str, str, str]] = []
    for i, text in enumerate(batch.result):
        offset = int(batch.begin[i])
        matches: list[tuple[int, int, str]] = []
        for pattern, identifier in compiled:
            for m in _matches(pattern, text, strategy):
                if m.end() > m.start():
                    matches.append((m.start(), m.end(), identifier))
        for b, e, identifier in sorted(matches, key=lambda t: (t[0], t[1])):
            found.append(
                (int(rows[i]), offset + b, offset + e - 1, text[b:e], identifier, sentence_ids[i])
            )
    return _chunks(found, batch.num_rows)


def _matches(pattern: re.Pattern[str], text: str, strategy: str) -> Sequence[re.Match[str]]:
    if strategy == "MATCH_ALL":
        return list(pattern.finditer(text))
    if strategy == "MATCH_FIRST":
        first = pattern.search(text)
        return [first] if first else []
    whole = pattern.fullmatch(text)
    return [whole] if whole else []


def _chunks(found: Sequence[tuple[int, int, int, str, str, str]], num_rows: int) -> pa.Array:
    rows = np.array([f[0] for f in found], dtype=np.int64)
    row_offsets = row_offsets_of(rows, num_rows)
    index = np.arange(len(found)) - row_offsets[rows] if len(found) else np.zeros(0, np.int64)
    identifiers = [f[4] for f in found]
    return build_annotations(
        CHUNK,
        row_offsets,
        [f[1] for f in found],
        [f[2] for f in found],
        [f[3] for f in found],
        {
            "identifier": identifiers,
            "entity": identifiers,
            "sentence": [f[5] for f in found],
            "chunk": index,
        },
    )
