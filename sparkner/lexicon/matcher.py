"""Dictionary matching: the longest lexicon term at each token, left to right, non-overlapping.

A lexicon is a set of terms, each a sequence of tokens with one class (PROBLEM, TEST, ...).
Terms are cut into tokens by sparkner's own tokenizer (default :class:`TokenRules`), and both
term tokens and document tokens are compared in a normalized form: lower case (Unicode case
mapping, as Arrow's ``utf8_lower``) after NFKC, so "Chest Pain", "CHEST PAIN" and a
decomposed "Sjo\\u0308gren" all match. Offsets always come from the document's own tokens,
never from the normalized strings, whose lengths may differ.

Matching works on whole Arrow batches: token strings become integer ids through one
dictionary lookup per *distinct* token, every n-gram that can start a term is hashed with
numpy, looked up with ``np.searchsorted`` in sorted per-length hash tables, and each hit is
verified token by token (so a hash collision can never make a false match). Only the
candidate starts, not every token, go through Python, for the greedy left-to-right pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparkner.core.annotation import (
    LEXICON,
    AnnotationBatch,
    as_array,
    build_annotations,
    distinct_strings,
)
from sparkner.text.tokenizing import TokenRules, tokenize_text

# Longer terms are dropped when a lexicon is built: they almost never occur verbatim in notes
# and each extra length costs a hash pass over the candidate starts.
MAX_TERM_TOKENS = 8

# Odd 64-bit multiplier of the polynomial n-gram hash (numpy uint64 arithmetic wraps).
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

# Terms are cut with the tokenizer's defaults, as a pipeline's Tokenizer cuts notes.
DEFAULT_RULES = TokenRules()


class LexiconError(ValueError):
    """A lexicon cannot be built or read."""


def normalize_tokens(tokens: pa.Array | pa.ChunkedArray | Sequence[str]) -> pa.Array:
    """The comparison form of tokens: NFKC, Unicode lower case, typographic apostrophes as
    ``'`` (nulls stay null).

    The same function serves terms (when a lexicon is built) and document tokens (when it is
    matched), so both sides always agree. Lower case rather than full case folding: Arrow has
    no case fold, and folding ("ß" -> "ss") changes nothing for the English term lists.
    """
    array = as_array(tokens) if isinstance(tokens, pa.Array | pa.ChunkedArray) else None
    if array is None:
        array = pa.array(list(tokens), pa.string())
    if array.type != pa.string():
        array = pc.cast(array, pa.string())
    lowered = pc.utf8_lower(pc.utf8_normalize(array, "NFKC"))
    # The tokenizer splits "Crohn’s" as "Crohn" + "’s"; NFKC keeps the typographic apostrophe.
    return pc.replace_substring_regex(lowered, "[\u2018\u2019\u02bc]", "'")


def term_tokens(term: str, rules: TokenRules = DEFAULT_RULES) -> list[str]:
    """The raw tokens of a term, as sparkner's tokenizer cuts them (not yet normalized)."""
    return [term[b:e] for b, e in tokenize_text(term, rules)]


@dataclass(frozen=True, eq=False)
class _LengthTable:
    """The terms of one token length ``n``: sorted hashes, their token ids and classes."""

    hashes: np.ndarray  # uint64 [m], sorted
    ids: np.ndarray  # int32 [m, n], rows in hash order
    classes: np.ndarray  # int16 [m]


def _hash_columns(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Polynomial hash of token-id sequences given column by column (ids >= 0)."""
    h = columns[0].astype(np.uint64) + np.uint64(1)
    for column in columns[1:]:
        h = h * _HASH_MULTIPLIER + (column.astype(np.uint64) + np.uint64(1))
    return h


class Lexicon:
    """Terms as token-id sequences with a class each, indexed for matching.

    Build one with :func:`build_lexicon` or load one with :func:`sparkner.lexicon.load_lexicon`.
    """

    def __init__(
        self,
        classes: Sequence[str],
        vocabulary: Sequence[str],
        term_ids: np.ndarray,
        term_offsets: np.ndarray,
        term_classes: np.ndarray,
        fingerprint: str = "",
        name: str = "",
    ) -> None:
        self.classes: tuple[str, ...] = tuple(classes)
        self.vocabulary: tuple[str, ...] = tuple(vocabulary)
        self.name = name
        self.fingerprint = fingerprint
        if len(set(self.classes)) != len(self.classes) or not all(self.classes):
            raise LexiconError(f"class names must be distinct and non-empty: {self.classes}")
        ids = np.asarray(term_ids, dtype=np.int32)
        offsets = np.asarray(term_offsets, dtype=np.int64)
        codes = np.asarray(term_classes, dtype=np.int16)
        if offsets.ndim != 1 or len(offsets) != len(codes) + 1 or offsets[0] != 0:
            raise LexiconError("term offsets must be one more than the term classes, from 0")
        lengths = np.diff(offsets)
        if offsets[-1] != len(ids) or (lengths < 1).any() or (lengths > MAX_TERM_TOKENS).any():
            raise LexiconError(f"every term must have 1 to {MAX_TERM_TOKENS} tokens")
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self.vocabulary)):
            raise LexiconError("a term token id is outside the vocabulary")
        if len(codes) and (codes.min() < 0 or codes.max() >= len(self.classes)):
            raise LexiconError("a term class index is outside the classes")
        self._ids, self._offsets, self._codes = ids, offsets, codes
        self._index = dict(zip(self.vocabulary, range(len(self.vocabulary)), strict=True))
        if len(self._index) != len(self.vocabulary):
            raise LexiconError("the vocabulary lists a token twice")
        self.max_length = int(lengths.max()) if len(lengths) else 0
        self._tables: dict[int, _LengthTable] = {}
        # Bit n-1 of starts[i] is set when some term of n tokens begins with token i: most
        # document tokens start no term at all and are never hashed.
        self._starts = np.zeros(len(self.vocabulary), dtype=np.uint16)
        for n in range(1, self.max_length + 1):
            rows = np.flatnonzero(lengths == n)
            if not len(rows):
                continue
            matrix = ids[offsets[rows][:, None] + np.arange(n)]
            hashes = _hash_columns([matrix[:, k] for k in range(n)])
            order = np.argsort(hashes, kind="stable")
            hashes, matrix, table_codes = hashes[order], matrix[order], codes[rows][order]
            same = np.flatnonzero(hashes[1:] == hashes[:-1])
            if len(same):
                if not (matrix[same] == matrix[same + 1]).all():
                    raise LexiconError("two different terms share a hash; rebuild the lexicon")
                raise LexiconError("a term is listed twice")
            self._tables[n] = _LengthTable(hashes, matrix, table_codes)
            np.bitwise_or.at(self._starts, matrix[:, 0], np.uint16(1 << (n - 1)))

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        return f"Lexicon({self.name or 'unnamed'}, {len(self)} terms, classes={self.classes})"

    @cached_property
    def counts(self) -> dict[str, int]:
        """Number of terms per class."""
        counts = np.bincount(self._codes, minlength=len(self.classes))
        return {name: int(c) for name, c in zip(self.classes, counts, strict=True)}

    def terms(self) -> list[tuple[str, str]]:
        """Every ``(class, term)``, the term's normalized tokens joined by single spaces."""
        return [(cls, " ".join(tokens)) for cls, tokens in self.token_terms()]

    def token_terms(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every ``(class, normalized tokens)``, in the lexicon's order."""
        words = self.vocabulary
        ids, offsets = self._ids.tolist(), self._offsets.tolist()
        return [
            (self.classes[c], tuple(words[i] for i in ids[offsets[t] : offsets[t + 1]]))
            for t, c in enumerate(self._codes.tolist())
        ]

    def token_ids(self, normalized: pa.Array) -> np.ndarray:
        """The vocabulary id of each normalized token; -1 where unknown or null."""
        distinct, positions = distinct_strings(normalized)
        index = self._index
        ids = [index.get(w, -1) for w in distinct.to_pylist()]
        return np.array([*ids, -1], dtype=np.int64)[positions]  # the last id: a null token's

    def find(
        self, ids: np.ndarray, segment_starts: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Greedy longest matches over a flat token-id sequence.

        ``segment_starts`` (sorted, first 0) are the indices where a sentence begins; no match
        crosses one. Returns ``(start, length, class code)`` arrays of the matches, in order.
        """
        count = len(ids)
        empty = np.zeros(0, dtype=np.int64)
        if count == 0 or not self._tables:
            return empty, empty, empty
        ids = np.asarray(ids, dtype=np.int64)
        starts = np.zeros(1, np.int64) if segment_starts is None else np.asarray(segment_starts)
        # Room at each token: tokens to the end of its sentence or the next unknown token.
        sentence_end = np.append(starts[1:], count).astype(np.int64)
        sentence_of = np.searchsorted(starts, np.arange(count), side="right") - 1
        unknown = np.where(ids < 0, np.arange(count), count)
        next_unknown = np.minimum.accumulate(unknown[::-1])[::-1]
        room = np.minimum(sentence_end[sentence_of], next_unknown) - np.arange(count)
        known = np.flatnonzero(room > 0)
        start_bits = self._starts[ids[known]].astype(np.int64)
        known_room = room[known]
        best_length = np.zeros(count, dtype=np.int64)
        best_class = np.zeros(count, dtype=np.int64)
        for n, table in sorted(self._tables.items()):  # longer lengths overwrite shorter
            pick = (known_room >= n) & ((start_bits >> (n - 1)) & 1).astype(bool)
            positions = known[pick]
            if not len(positions):
                continue
            columns = [ids[positions + k] for k in range(n)]
            hashes = _hash_columns(columns)
            slot = np.searchsorted(table.hashes, hashes)
            slot[slot == len(table.hashes)] = 0
            hit = table.hashes[slot] == hashes
            if not hit.any():
                continue
            slot, positions = slot[hit], positions[hit]
            window = np.stack([column[hit] for column in columns], axis=1)
            exact = (table.ids[slot] == window).all(axis=1)
            positions = positions[exact]
            best_length[positions] = n
            best_class[positions] = table.classes[slot[exact]]
        candidates = np.flatnonzero(best_length)
        if not len(candidates):
            return empty, empty, empty
        lengths = best_length[candidates]
        # Greedy pass: a candidate is kept unless an earlier kept match still covers it.
        # Only candidates overlapping their predecessor need the Python loop.
        ends = candidates + lengths
        overlaps = np.zeros(len(candidates), dtype=bool)
        overlaps[1:] = candidates[1:] < np.maximum.accumulate(ends)[:-1]
        if overlaps.any():
            keep = np.ones(len(candidates), dtype=bool)
            free = 0
            for i, (start, end) in enumerate(zip(candidates.tolist(), ends.tolist(), strict=True)):
                if start < free:
                    keep[i] = False
                else:
                    free = end
            candidates, lengths = candidates[keep], lengths[keep]
        return candidates, lengths, best_class[candidates]


def build_lexicon(
    terms_by_class: Mapping[str, Iterable[str]],
    rules: TokenRules = DEFAULT_RULES,
    name: str = "",
) -> Lexicon:
    """A lexicon from raw term strings per class (the classes in the mapping's order).

    Terms are tokenized with ``rules`` and normalized. Terms without tokens or with more than
    :data:`MAX_TERM_TOKENS` tokens are skipped. A term listed under several classes keeps
    the first class in the mapping's order (order the mapping by priority).
    """
    classes = list(terms_by_class)
    seen: dict[tuple[str, ...], int] = {}
    raw_tokens: list[str] = []
    lengths: list[int] = []
    owners: list[int] = []
    for code, cls in enumerate(classes):
        for term in terms_by_class[cls]:
            tokens = term_tokens(term, rules)
            if 0 < len(tokens) <= MAX_TERM_TOKENS:
                raw_tokens.extend(tokens)
                lengths.append(len(tokens))
                owners.append(code)
    normalized = normalize_tokens(pa.array(raw_tokens, pa.string())).to_pylist()
    pieces: list[tuple[tuple[str, ...], int]] = []
    position = 0
    for length, code in zip(lengths, owners, strict=True):
        key = tuple(normalized[position : position + length])
        position += length
        # A token whose normalized form is empty or holds whitespace (NFKC turns some
        # symbols into a space plus a mark) could not be stored one term per line.
        if key in seen or not all(t and not any(c.isspace() for c in t) for t in key):
            continue
        seen[key] = code
        pieces.append((key, code))
    return lexicon_from_terms(classes, pieces, name=name)


def lexicon_from_terms(
    classes: Sequence[str],
    terms: Iterable[tuple[Sequence[str], int]],
    fingerprint: str = "",
    name: str = "",
) -> Lexicon:
    """A lexicon from already normalized token sequences, each with a class index."""
    vocabulary: dict[str, int] = {}
    ids: list[int] = []
    offsets = [0]
    codes: list[int] = []
    for tokens, code in terms:
        ids.extend(vocabulary.setdefault(t, len(vocabulary)) for t in tokens)
        offsets.append(len(ids))
        codes.append(code)
    return Lexicon(
        classes,
        list(vocabulary),
        np.asarray(ids, np.int32),
        np.asarray(offsets, np.int64),
        np.asarray(codes, np.int16),
        fingerprint=fingerprint,
        name=name,
    )


def _segments(tokens: AnnotationBatch) -> np.ndarray:
    """Where each sentence starts in the flat token list: the row or ``sentence`` changes.

    The ``sentence`` value is compared as a string, so any metadata content works.
    """
    count = len(tokens)
    if count == 0:
        return np.zeros(1, dtype=np.int64)
    rows = tokens.row_of()
    sentence = pc.dictionary_encode(tokens.metadata("sentence", ""))
    codes = sentence.indices.to_numpy(zero_copy_only=False)
    change = (rows[1:] != rows[:-1]) | (codes[1:] != codes[:-1])
    return np.flatnonzero(np.concatenate([[True], change])).astype(np.int64)


def _token_matches(
    tokens: AnnotationBatch, lexicon: Lexicon
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matches over a token batch: (start, length, class code) plus the sentence starts."""
    if len(tokens) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(1, dtype=np.int64)
    normalized = normalize_tokens(tokens.annotations.field("result"))
    segments = _segments(tokens)
    start, length, code = lexicon.find(lexicon.token_ids(normalized), segments)
    return start, length, code, segments


def match_lexicon(documents: pa.Array, tokens: pa.Array, lexicon: Lexicon) -> pa.Array:
    """One ``lexicon`` chunk annotation per match, for each row of a batch.

    ``documents`` (the rows' document annotations; the first one's ``result`` is the text)
    and ``tokens`` (with ``sentence`` metadata) have one entry per row. A chunk spans its
    first token's ``begin`` to its last token's ``end`` (inclusive), ``result`` is that
    slice of the text, and its metadata holds ``entity`` (the class), ``sentence`` and
    ``chunk`` (its number in the row). When a row has no document text covering the span,
    the chunk's result is its tokens joined by single spaces.
    """
    token_batch = AnnotationBatch(tokens)
    doc_batch = AnnotationBatch(documents)
    if doc_batch.num_rows != token_batch.num_rows:
        raise ValueError(
            f"{doc_batch.num_rows} document rows but {token_batch.num_rows} token rows"
        )
    start, length, code, _ = _token_matches(token_batch, lexicon)
    last = start + length - 1
    begin = token_batch.begin[start]
    end = token_batch.end[last]
    rows = token_batch.row_of()[start] if len(start) else np.zeros(0, dtype=np.int64)
    counts = np.bincount(rows, minlength=token_batch.num_rows)
    row_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    results = _chunk_texts(doc_batch, token_batch, rows, start, last, begin, end)
    entity = np.asarray(lexicon.classes, dtype=object)[code] if len(code) else []
    sentence = pa.array([], pa.string())
    if len(start):
        sentence = token_batch.metadata("sentence", "0").take(pa.array(start))
    return build_annotations(
        LEXICON,
        row_offsets,
        begin,
        end,
        results,
        {
            "entity": pa.array(list(entity), pa.string()),
            "sentence": sentence,
            "chunk": np.arange(len(start), dtype=np.int64) - row_offsets[rows],
        },
    )


def _chunk_texts(
    docs: AnnotationBatch,
    tokens: AnnotationBatch,
    rows: np.ndarray,
    start: np.ndarray,
    last: np.ndarray,
    begin: np.ndarray,
    end: np.ndarray,
) -> list[str]:
    """The text of each match: a slice of the row's document (or sentence) annotation that
    covers it, so that ``text[begin:end + 1] == result``; the tokens joined by spaces only
    where no annotation of the row covers the match."""
    if not len(start):
        return []
    doc_texts = docs.annotations.field("result")
    doc_begins, doc_ends = docs.begin, docs.end
    results: list[str] = []
    token_texts: list[str] | None = None
    texts: dict[int, str] = {}
    for row, b, e, s, t in zip(
        rows.tolist(), begin.tolist(), end.tolist(), start.tolist(), last.tolist(), strict=True
    ):
        text = None
        for d in range(int(docs.row_offsets[row]), int(docs.row_offsets[row + 1])):
            if doc_begins[d] <= b and e <= doc_ends[d]:
                if d not in texts:
                    texts[d] = doc_texts[d].as_py() or ""
                lo = b - int(doc_begins[d])
                text = texts[d][lo : lo + e - b + 1]
                break
        if text is None:
            if token_texts is None:
                token_texts = tokens.result
            text = " ".join(token_texts[s : t + 1])
        results.append(text)
    return results


def token_class_labels(lexicon: Lexicon) -> list[str]:
    """The names of :func:`token_classes` codes: ``O``, then ``B-`` and ``I-`` per class."""
    return ["O"] + [f"{p}-{c}" for c in lexicon.classes for p in ("B", "I")]


def token_classes(tokens: pa.Array, lexicon: Lexicon) -> np.ndarray:
    """An int32 code per token (flattened rows, in order): 0 outside any match, ``1 + 2c``
    on the first token of a match of class ``c`` and ``2 + 2c`` on its other tokens."""
    batch = AnnotationBatch(tokens)
    codes = np.zeros(len(batch), dtype=np.int32)
    start, length, code, _ = _token_matches(batch, lexicon)
    if len(start):
        inside = np.repeat(code * 2 + 2, length).astype(np.int32)
        within = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
        positions = np.repeat(start, length) + within
        codes[positions] = inside
        codes[start] = (code * 2 + 1).astype(np.int32)
    return codes


def match_words(words: Sequence[str], lexicon: Lexicon) -> list[tuple[int, int, str]]:
    """Matches over one token sequence: ``(first token, end token exclusive, class)``."""
    ids = lexicon.token_ids(normalize_tokens(pa.array(list(words), pa.string())))
    start, length, code = lexicon.find(ids)
    return [
        (s, s + n, lexicon.classes[c])
        for s, n, c in zip(start.tolist(), length.tolist(), code.tolist(), strict=True)
    ]
