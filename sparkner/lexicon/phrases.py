"""Phrase matching over tokens (Spark NLP's ``TextMatcher``): every occurrence of any phrase.

Phrases are cut into tokens by sparkner's tokenizer (default rules), or split at whitespace
when ``build_from_tokens`` is set, and compared token by token with the document's tokens:
exactly, or in lower case (Unicode case mapping after NFKC) when not case sensitive. Every
occurrence is found, overlapping ones included, within a sentence; ``merge_overlapping``
joins occurrences that overlap into one chunk spanning them all. A chunk spans its first
token's ``begin`` to its last token's ``end`` and its result is that slice of the text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import CHUNK, AnnotationBatch, build_annotations
from sparkner.core.formats import text_lines
from sparkner.text.spans import CoveringTexts, row_offsets_of
from sparkner.text.tokenizing import TokenRules, tokenize_text


@dataclass(frozen=True)
class PhraseSet:
    """Phrases to find (hashable settings; the index is built on first use)."""

    phrases: tuple[str, ...]
    case_sensitive: bool = True
    build_from_tokens: bool = False

    def key(self, token: str) -> str:
        return token if self.case_sensitive else unicodedata.normalize("NFKC", token).lower()

    @cached_property
    def index(self) -> tuple[frozenset[tuple[str, ...]], frozenset[str], int]:
        """The phrases as token tuples, their first tokens, and the longest length."""
        rules = TokenRules()
        found: set[tuple[str, ...]] = set()
        for phrase in self.phrases:
            if self.build_from_tokens:
                tokens = phrase.split()
            else:
                tokens = [phrase[b:e] for b, e in tokenize_text(phrase, rules)]
            if tokens:
                found.add(tuple(self.key(t) for t in tokens))
        firsts = frozenset(p[0] for p in found)
        return frozenset(found), firsts, max((len(p) for p in found), default=0)


def match_phrases(
    documents: pa.Array,
    tokens: pa.Array,
    *,
    phrases: PhraseSet,
    merge_overlapping: bool = False,
    entity: str = "entity",
) -> pa.Array:
    """One ``chunk`` per occurrence (or per merged group of overlapping occurrences), with
    metadata ``entity`` (``entity``), ``sentence`` and ``chunk`` (its number in the row)."""
    batch = AnnotationBatch(tokens)
    texts = CoveringTexts(AnnotationBatch(documents))
    known, firsts, longest = phrases.index
    keys = [phrases.key(t) for t in batch.result]
    rows = batch.row_of()
    sentences = batch.metadata("sentence", "0").to_pylist()
    found: list[tuple[int, int, int, str]] = []  # row, begin, end, sentence
    offsets = batch.sentence_offsets()
    for s in range(len(offsets) - 1):
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        spans = _occurrences(keys, lo, hi, known, firsts, longest)
        if merge_overlapping:
            spans = _merged(spans)
        for first, last in spans:
            found.append(
                (int(rows[lo]), int(batch.begin[first]), int(batch.end[last]), sentences[lo])
            )
    kept = [(r, b, e, s, texts.cut(r, b, e)) for r, b, e, s in found]
    kept = [k for k in kept if k[4] is not None]  # never a chunk with a wrong text
    return _chunks(kept, batch.num_rows, {"entity": [entity] * len(kept)})


def _occurrences(
    keys: Sequence[str],
    lo: int,
    hi: int,
    known: frozenset[tuple[str, ...]],
    firsts: frozenset[str],
    longest: int,
) -> list[tuple[int, int]]:
    """Every ``(first, last)`` token of a phrase occurrence in ``keys[lo:hi]``, in order."""
    spans = []
    for i in range(lo, hi):
        if keys[i] not in firsts:
            continue
        for n in range(1, min(longest, hi - i) + 1):
            if tuple(keys[i : i + n]) in known:
                spans.append((i, i + n - 1))
    return spans


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping token spans joined (sorted by first token)."""
    merged: list[list[int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(a, b) for a, b in merged]


def _chunks(
    kept: Sequence[tuple[int, int, int, str, str | None]],
    num_rows: int,
    extra: dict[str, list[str]],
) -> pa.Array:
    """Chunk annotations from ``(row, begin, end, sentence, text)`` in row order."""
    rows = np.array([k[0] for k in kept], dtype=np.int64)
    row_offsets = row_offsets_of(rows, num_rows)
    index = np.arange(len(kept)) - row_offsets[rows] if len(kept) else np.zeros(0, np.int64)
    return build_annotations(
        CHUNK,
        row_offsets,
        [k[1] for k in kept],
        [k[2] for k in kept],
        [k[4] or "" for k in kept],
        {**extra, "sentence": [k[3] for k in kept], "chunk": index},
    )


def read_phrases(path: str) -> list[str]:
    """The phrases of a UTF-8 file, one a line (blank lines skipped, ends trimmed); errors
    name the file and line."""
    return [line for _, line in text_lines(path, "entities file")]
