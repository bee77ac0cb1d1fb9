"""Token clean-up: Spark NLP's ``Normalizer`` and ``StopWordsCleaner``, over token batches.

Both keep each token's ``begin``, ``end`` and metadata. The Normalizer's ``result`` is the
normalized form (lower-cased, slang replaced, clean-up patterns removed), so ``begin`` and
``end`` give the original token's span in the text, not the span of the result, as in Spark
NLP; tokens left empty are dropped. The StopWordsCleaner's tokens are unchanged (text
slices): it only drops the stop words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import TOKEN, AnnotationBatch, build_annotations
from sparkner.core.formats import text_pairs
from sparkner.text.java_regex import compile_java

# Spark NLP's default: everything but letters and "+" is removed.
DEFAULT_CLEANUP_PATTERNS = ("[^\\pL+]",)


@dataclass(frozen=True)
class NormalizerRules:
    cleanup_patterns: tuple[str, ...] = DEFAULT_CLEANUP_PATTERNS
    lowercase: bool = False
    slang: tuple[tuple[str, str], ...] = ()
    slang_match_case: bool = False
    min_length: int = 0
    max_length: int = 0


@lru_cache(maxsize=32)
def _compiled(rules: NormalizerRules) -> tuple[tuple[re.Pattern[str], ...], dict[str, str]]:
    patterns = tuple(compile_java(p) for p in rules.cleanup_patterns)
    slang = {(k if rules.slang_match_case else k.lower()): v for k, v in rules.slang if k and v}
    return patterns, slang


def normalize_tokens(tokens: pa.Array, *, rules: NormalizerRules) -> pa.Array:
    """The normalized tokens of a batch: lower case (if set), then the slang dictionary (a
    replacement of several words gives one token each, on the original span), then every
    clean-up pattern removed; empty and out-of-length results are dropped."""
    batch = AnnotationBatch(tokens)
    patterns, slang = _compiled(rules)
    keep: list[int] = []
    results: list[str] = []
    for i, word in enumerate(batch.result):
        word = word.lower() if rules.lowercase else word
        if slang:
            replaced = slang.get(word if rules.slang_match_case else word.lower())
            words = replaced.split() if replaced is not None else [word]
        else:
            words = [word]
        for piece in words:
            for pattern in patterns:
                piece = pattern.sub("", piece)
            if piece and _length_ok(len(piece), rules.min_length, rules.max_length):
                keep.append(i)
                results.append(piece)
    return _tokens_subset(batch, np.asarray(keep, dtype=np.int64), results)


def clean_stop_words(
    tokens: pa.Array, *, stop_words: frozenset[str], case_sensitive: bool = False
) -> pa.Array:
    """The tokens of a batch that are not stop words (compared in lower case unless
    ``case_sensitive``)."""
    batch = AnnotationBatch(tokens)
    words = batch.result
    keep = [
        i for i, w in enumerate(words) if (w if case_sensitive else w.lower()) not in stop_words
    ]
    index = np.asarray(keep, dtype=np.int64)
    return _tokens_subset(batch, index, [words[i] for i in keep])


def _length_ok(length: int, low: int, high: int) -> bool:
    return length >= low and (high <= 0 or length <= high)


def _tokens_subset(batch: AnnotationBatch, index: np.ndarray, results: Sequence[str]) -> pa.Array:
    """Tokens ``index`` of ``batch`` (in order, repeats allowed) with new results; each keeps
    its span and every metadata key it had."""
    rows = batch.row_of()[index] if len(index) else np.zeros(0, dtype=np.int64)
    counts = np.bincount(rows, minlength=batch.num_rows)
    row_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    taken = pa.array(index, pa.int64())
    keys = _metadata_keys(batch)
    metadata = {k: batch.metadata(k).take(taken) for k in keys}
    return build_annotations(
        TOKEN,
        row_offsets,
        batch.begin[index] if len(index) else [],
        batch.end[index] if len(index) else [],
        list(results),
        metadata,
    )


def _metadata_keys(batch: AnnotationBatch) -> list[str]:
    """Every metadata key of the batch's annotations, in first-seen order."""
    maps = batch.annotations.field("metadata")
    if len(maps) == 0:
        return ["sentence"]
    return list(dict.fromkeys(pa.concat_arrays([maps]).keys.to_pylist()))


def read_slang(path: str, delimiter: str = ",") -> list[tuple[str, str]]:
    """``word<delimiter>replacement`` pairs of a UTF-8 file; errors name the file and line."""
    return text_pairs(path, "slang dictionary", ("word", "replacement"), delimiter)


def stop_word_set(words: Sequence[str], case_sensitive: bool) -> frozenset[str]:
    return frozenset(words if case_sensitive else (w.lower() for w in words))


def slang_pairs(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))
