"""A learned assertion classifier over what the ConText rules see, the section, the entity type
and the words around each chunk.

A multinomial logistic regression (numpy, trained by :func:`train_classifier`) whose binary
features for a chunk are:

- the rules' verdict (:func:`~sparkner.assertion.context.chunk_contexts`, every entity type
  asserted), alone and with the entity type and with the section;
- every trigger whose scope holds the chunk: its label and side (before or after the chunk),
  with the entity type, with a distance bucket, and its phrase;
- the chunk's section (its normalised name, :mod:`sparkner.sections`; ``none`` before the
  first header), alone and with the entity type (family history -> someone else, a plan's
  tests and treatments -> hypothetical, an allergy list's reactions -> conditional);
- the entity type (the chunk's ``entity`` metadata: PROBLEM, TEST, TREATMENT);
- the lowercased tokens in a window before and after the chunk (within its sentence) and in
  it, the nearest one on each side, the pairs of neighbours, and the words before it with
  the entity type.

A feature is a key, a 32-bit hash of its parts (CRC-32 of each word or name, mixed) shifted
left by 8 bits with its slot (which kind of feature) in the low byte, so no vocabulary is
stored: the model keeps the sorted keys seen in training and a weight row
for each (JSON settings and one ``.npz`` of arrays, read without pickle). A key unseen in
training weighs nothing.

Scoring is vectorised over a whole batch: each word is hashed once (and each distinct text
once per process), every chunk's keys come out of one sort, a hash table built once per
loaded model gives each key's weight row, and the known keys' rows are summed as one running
sum over the batch in the chunks' key order: the logits equal, to the bit, the plain running
sum with a zero row for each unknown key.
"""

from __future__ import annotations

import json
import os
import zlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparkner.assertion.context import (
    LABELS,
    ChunkContexts,
    ContextRules,
    assertion_annotations,
    chunk_contexts,
)
from sparkner.core.annotation import AnnotationBatch
from sparkner.core.formats import read_versioned_json
from sparkner.sections.headers import SectionRules, split_sections

CLASSIFIER_FILE = "assertion_classifier.json"
WEIGHTS_FILE = "assertion_classifier.npz"
CLASSIFIER_FORMAT = "sparkner-assertion-classifier"
CLASSIFIER_VERSION = 1
NO_SECTION = "none"

# Feature slots: the low byte of every key.
(
    VERDICT,
    VERDICT_TYPE,
    VERDICT_SECTION,
    TRIGGER,
    TRIGGER_TYPE,
    TRIGGER_NEAR,
    TRIGGER_PHRASE,
    SECTION,
    SECTION_TYPE,
    TYPE,
    LEFT,
    RIGHT,
    INSIDE,
    LEFT_NEAREST,
    RIGHT_NEAREST,
    LEFT_PAIR,
    RIGHT_PAIR,
    LEFT_TYPE,
    NO_TOKENS,
    SENTENCE,
) = range(1, 21)
_SLOT_BITS = 8
# The bits of a key (a 32-bit hash and the slot byte). Packed into one int64 beside a key:
# a chunk number (sorting as the pair does while it is below 2^_ROW_BITS) or a weight row.
_KEY_BITS = 32 + _SLOT_BITS
_ROW_BITS = 63 - _KEY_BITS
_ROW_MASK = (1 << _ROW_BITS) - 1


class ClassifierFileError(ValueError):
    """A classifier folder's files are missing, damaged or of another format."""


@dataclass(frozen=True)
class FeatureSettings:
    """Which features a classifier reads: the word window (tokens each side of a chunk) and
    the optional feature groups."""

    window: int = 6
    pairs: bool = True
    words_with_type: bool = True
    # How far (in words, both ways) the trigger features reach: past the rules' own window,
    # so that "denies A, B, C, ..., Z" reaches Z (the scope still stops at the sentence end
    # and at terminate terms); 0: the rules' own window.
    trigger_scope: int = 30
    sentence_words: bool = True

    def __post_init__(self) -> None:
        if self.window < 0 or self.trigger_scope < 0:
            raise ValueError("window and trigger_scope must be at least 0")


@dataclass(frozen=True, eq=False)
class AssertionClassifier:
    """A trained classifier: the labels (the columns of ``weights``), the feature settings,
    the sorted feature keys seen in training, one weight row per key, and the bias. (Compared
    by identity: it holds arrays.)"""

    labels: tuple[str, ...]
    settings: FeatureSettings
    keys: np.ndarray  # int64, sorted
    weights: np.ndarray  # float32, (len(keys), len(labels))
    bias: np.ndarray  # float32, (len(labels),)
    record: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n_labels = len(self.labels)
        if not set(self.labels) <= set(LABELS) or n_labels < 2:
            raise ValueError(f"labels must be at least two of {LABELS}")
        if self.weights.shape != (len(self.keys), n_labels) or self.bias.shape != (n_labels,):
            raise ValueError("weights must have a row per key and a column per label")
        if len(self.keys) > 1 and not (np.diff(self.keys) > 0).all():
            raise ValueError("keys must be sorted and distinct")

    def scores(self, offsets: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Logits ``(rows, labels)`` of feature rows given as CSR (``offsets`` into
        ``keys``)."""
        found = self.rows_of(keys)
        known = found >= 0
        if not known.all():
            # An unknown key adds nothing: the sums run over the known keys alone, the same
            # additions in the same order as with a zero row for each unknown one.
            known_before = np.zeros(len(keys) + 1, dtype=np.int64)
            np.cumsum(known, out=known_before[1:])
            offsets, found = known_before[offsets], found[known]
        return _summed_rows(self.weights, found, offsets) + self.bias

    def probabilities(self, offsets: np.ndarray, keys: np.ndarray) -> np.ndarray:
        return softmax(self.scores(offsets, keys))

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """The weight row of each key (-1: a key unseen in training)."""
        keys = np.asarray(keys, dtype=np.int64)
        table = self.key_table
        if table is None:
            found = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
            known = self.keys[found] == keys if len(self.keys) else np.zeros(len(keys), bool)
            return np.where(known, found, -1)
        # Linear probing, every key a step at a time: most are settled by the first probe.
        slot = _table_slots(keys, len(table))
        held = table[slot]
        filled = held >= 0  # (an empty slot's -1 would match a key of -1)
        rows = np.where((held >> _ROW_BITS == keys) & filled, held & _ROW_MASK, -1)
        pending = np.flatnonzero((rows < 0) & filled)
        slot = slot[pending]
        while len(pending):
            slot = (slot + 1) & (len(table) - 1)
            held = table[slot]
            filled = held >= 0
            hit = (held >> _ROW_BITS == keys[pending]) & filled
            rows[pending[hit]] = held[hit] & _ROW_MASK
            going = ~hit & filled
            pending, slot = pending[going], slot[going]
        return rows

    @cached_property
    def key_table(self) -> np.ndarray | None:
        """An open-addressing hash table of the keys, built once per loaded classifier: at
        least twice as many slots as keys, each empty (-1) or a key and its row packed as
        ``key << _ROW_BITS | row``, a key in its home slot (:func:`_table_slots`) or in the
        first free one after it. None where keys or rows do not fit the packing."""
        count = len(self.keys)
        if not count or count > _ROW_MASK or self.keys[0] < 0 or self.keys[-1] >> _KEY_BITS:
            return None
        size = 1 << max(4, (2 * count - 1).bit_length())
        table = np.full(size, -1, dtype=np.int64)
        pending = np.arange(count)
        slot = _table_slots(self.keys, size)
        while len(pending):
            free = np.flatnonzero(table[slot] < 0)
            # Of the keys that reach the same free slot, the first takes it.
            taken, first = np.unique(slot[free], return_index=True)
            placed = pending[free[first]]
            table[taken] = self.keys[placed] << _ROW_BITS | placed
            left = np.ones(len(pending), dtype=bool)
            left[free[first]] = False
            pending, slot = pending[left], (slot[left] + 1) & (size - 1)
        return table


def _table_slots(keys: np.ndarray, size: int) -> np.ndarray:
    """Home slots of ``keys`` in a hash table of ``size`` (a power of two) slots: Fibonacci
    hashing, the top bits of the key times 2^64 / phi."""
    spread = np.asarray(keys, dtype=np.int64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    spread >>= np.uint64(65 - size.bit_length())
    return spread.view(np.int64)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _row_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``values`` rows per CSR row (empty rows give zeros)."""
    summed = np.zeros((len(values) + 1, values.shape[1]), dtype=np.float64)
    np.cumsum(values, axis=0, out=summed[1:])
    return summed[offsets[1:]] - summed[offsets[:-1]]


# Rows summed at a time by _summed_rows: their running sums stay in the cache.
_SUM_BLOCK = 8192


def _summed_rows(weights: np.ndarray, rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``_row_sums(weights[rows] as float64, offsets)`` to the bit (the same running sum, one
    addition after another, differences of it at the offsets), a block of rows at a time."""
    total, width = len(rows), weights.shape[1]
    at = np.zeros((len(offsets), width), dtype=np.float64)  # the running sum at each offset
    buffer = np.zeros((min(total, _SUM_BLOCK) + 1, width), dtype=np.float64)
    starts = range(0, total, _SUM_BLOCK)
    cuts = np.searchsorted(offsets, [*starts, total]).tolist()
    for number, start in enumerate(starts):
        stop = min(start + _SUM_BLOCK, total)
        block = buffer[: stop - start + 1]  # row 0: the running sum so far
        block[1:] = np.take(weights, rows[start:stop], axis=0)
        np.cumsum(block, axis=0, out=block)
        first, last = cuts[number], cuts[number + 1]
        at[first:last] = block[offsets[first:last] - start]
        buffer[0] = block[-1]
    at[cuts[-1] :] = buffer[0]
    return at[1:] - at[:-1]


# -- features ------------------------------------------------------------------------------

# Upper ends of the trigger distance buckets (tokens between trigger and chunk): 0, 1, 2-3,
# 4-7, 8-15, 16 and more.
_DISTANCE_TOPS = np.array([0, 1, 3, 7, 15])
_MIX = np.uint64(0x9E3779B1)
_LOW32 = np.uint64(0xFFFFFFFF)


def text_hash(value: str) -> int:
    """The 32-bit hash of a feature's text (CRC-32 of its UTF-8)."""
    return zlib.crc32(value.encode("utf-8"))


def combine(first: np.ndarray | int, *more: np.ndarray | int) -> np.ndarray:
    """The 32-bit hash of a tuple of hashed parts (vectorised; order matters)."""
    mixed = np.asarray(first, dtype=np.uint64)
    for part in more:
        mixed = ((mixed * _MIX) ^ np.asarray(part, dtype=np.uint64)) & _LOW32
    return mixed


def feature_key(slot: int, *values: str) -> int:
    """The key of one feature: its slot and the hash of its parts (``feature_key(TYPE,
    "TEST")``, ``feature_key(SECTION_TYPE, "plan", "TEST")``)."""
    hashed = combine(*(text_hash(v) for v in values))
    return int(hashed) << _SLOT_BITS | slot


def _keys(slot: int, hashed: np.ndarray) -> np.ndarray:
    return (hashed.astype(np.int64) << _SLOT_BITS) | slot


# Hashes of the texts seen in this process (words, names, labels), so that a batch hashes
# only the words it is the first to see; emptied when it grows past _HASHED_LIMIT entries.
_HASHED: dict[str, int] = {}
_HASHED_LIMIT = 1 << 16


def _hashes(values: Sequence[str]) -> np.ndarray:
    """Hashes of ``values`` (:func:`text_hash`), each distinct value hashed once."""
    cache = _HASHED
    missing = set(values).difference(cache)
    if missing:
        if len(cache) + len(missing) > _HASHED_LIMIT:
            cache.clear()
        cache.update((value, text_hash(value)) for value in missing)
    try:
        return np.fromiter(map(cache.__getitem__, values), dtype=np.uint64, count=len(values))
    except KeyError:  # another thread emptied the cache meanwhile
        return np.fromiter(map(text_hash, values), dtype=np.uint64, count=len(values))


def _spans(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All positions ``starts[i] <= p < stops[i]`` as (owner i, position) arrays."""
    lengths = np.maximum(stops - starts, 0)
    owner = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    position = np.arange(offsets[-1]) - np.repeat(offsets[:-1] - starts, lengths)
    return owner, position


def chunk_features(
    verdicts: Sequence[str],
    contexts: ChunkContexts,
    entities: Sequence[str | None],
    sections: Sequence[str],
    rules: ContextRules,
    settings: FeatureSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Every chunk's feature keys (see the module docstring), as CSR ``(offsets, keys)``
    with each chunk's keys sorted and distinct (binary features): the rules' ``verdicts``,
    and the triggers and words of ``contexts`` (:func:`chunk_contexts` collecting with
    ``rules``)."""
    count = len(verdicts)
    verdict = _hashes(verdicts)
    kind = _hashes([e or "" for e in entities])
    section = _hashes(sections)
    chunk = np.arange(count)
    owners = [chunk] * 6
    keys = [
        _keys(VERDICT, verdict),
        _keys(VERDICT_TYPE, combine(verdict, kind)),
        _keys(VERDICT_SECTION, combine(verdict, section)),
        _keys(SECTION, section),
        _keys(SECTION_TYPE, combine(section, kind)),
        _keys(TYPE, kind),
    ]
    # Triggers in scope: label and side, with the type, with the distance, and the phrase.
    if len(contexts.trigger_chunk):
        owner = contexts.trigger_chunk
        # Only the rules that trigger are hashed (a rule set holds a thousand or more).
        numbers, rule_of = np.unique(contexts.trigger_rule, return_inverse=True)
        triggered = [rules.rules[n] for n in numbers.tolist()]
        label = _hashes([r.label or "" for r in triggered])[rule_of]
        phrase = _hashes([" ".join(r.phrase) for r in triggered])[rule_of]
        side = np.where(contexts.trigger_before, text_hash("<"), text_hash(">")).astype(np.uint64)
        near = np.searchsorted(_DISTANCE_TOPS, contexts.trigger_distance).astype(np.uint64)
        labelled = combine(label, side)
        owners += [owner] * 4
        keys += [
            _keys(TRIGGER, labelled),
            _keys(TRIGGER_TYPE, combine(labelled, kind[owner])),
            _keys(TRIGGER_NEAR, combine(labelled, near)),
            _keys(TRIGGER_PHRASE, combine(phrase, side)),
        ]
    first, last = contexts.first, contexts.last
    tokens = first >= 0
    owners.append(chunk[~tokens])
    keys.append(_keys(NO_TOKENS, np.zeros(int((~tokens).sum()), np.uint64)))
    if tokens.any():
        word = _hashes(contexts.words)
        start, end, window = contexts.sentence_start, contexts.sentence_end, settings.window
        sets = chunk[tokens]
        left_start = np.maximum(start, first - window)[tokens]
        right_stop = np.minimum(end, last + 1 + window)[tokens]
        spans = [
            (LEFT, left_start, first[tokens]),
            (RIGHT, last[tokens] + 1, right_stop),
            (INSIDE, first[tokens], last[tokens] + 1),
        ]
        if settings.sentence_words:
            spans.append((SENTENCE, start[tokens], end[tokens]))
        for slot, lo, hi in spans:
            owner, position = _spans(lo, hi)
            owners.append(sets[owner])
            keys.append(_keys(slot, word[position]))
        has_left = first[tokens] > left_start
        has_right = last[tokens] + 1 < right_stop
        owners += [sets[has_left], sets[has_right]]
        keys += [
            _keys(LEFT_NEAREST, word[first[tokens][has_left] - 1]),
            _keys(RIGHT_NEAREST, word[last[tokens][has_right] + 1]),
        ]
        if settings.pairs:
            for slot, lo, hi in (
                (LEFT_PAIR, left_start, first[tokens]),
                (RIGHT_PAIR, last[tokens] + 1, right_stop),
            ):
                owner, position = _spans(lo, hi - 1)
                owners.append(sets[owner])
                keys.append(_keys(slot, combine(word[position], word[position + 1])))
        if settings.words_with_type:
            owner, position = _spans(left_start, first[tokens])
            owners.append(sets[owner])
            keys.append(_keys(LEFT_TYPE, combine(word[position], kind[sets[owner]])))
    return _csr(np.concatenate(owners), np.concatenate(keys), count)


def _csr(owner: np.ndarray, keys: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(owner, key) pairs as CSR rows, each row's keys sorted and distinct."""
    if count <= _ROW_MASK:
        # One sort of packed pairs: several times faster than a lexsort of the two arrays.
        packed = (owner.astype(np.int64) << _KEY_BITS) | keys
        packed.sort()
        keep = np.ones(len(packed), dtype=bool)
        np.not_equal(packed[1:], packed[:-1], out=keep[1:])
        packed = packed[keep]
        owner, keys = packed >> _KEY_BITS, packed & ((1 << _KEY_BITS) - 1)
    else:
        order = np.lexsort((keys, owner))
        owner, keys = owner[order], keys[order]
        keep = np.ones(len(keys), dtype=bool)
        keep[1:] = (owner[1:] != owner[:-1]) | (keys[1:] != keys[:-1])
        owner, keys = owner[keep], keys[keep]
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=count), out=offsets[1:])
    return offsets, keys


# -- sections ------------------------------------------------------------------------------


def sections_from_sentences(
    sentence_batch: AnnotationBatch, chunk_batch: AnnotationBatch, rules: SectionRules
) -> list[str]:
    """Each chunk's section, found by the header rules in the text its row's sentences spell
    (the sentences at their offsets, a line break between them: gaps between sentences hold
    only separators, and a header after one starts its line)."""
    chunk_rows = chunk_batch.row_of().tolist()
    starts_names = _sentence_sections(sentence_batch, set(chunk_rows), rules)
    return _section_at(chunk_batch, chunk_rows, starts_names)


def _sentence_sections(
    sentence_batch: AnnotationBatch, rows: set[int], rules: SectionRules
) -> dict[int, tuple[list[int], list[str]]]:
    """Where each section of ``rows`` begins and its name, as
    :func:`sections_from_sentences` finds them (only these rows' sentences are read)."""
    results = sentence_batch.annotations.field("result")
    row_offsets = sentence_batch.row_offsets.tolist()
    starts_names: dict[int, tuple[list[int], list[str]]] = {}
    for row in rows:
        lo, hi = (
            (row_offsets[row], row_offsets[row + 1]) if row < sentence_batch.num_rows else (0, 0)
        )
        texts = [t if t is not None else "" for t in results.slice(lo, hi - lo).to_pylist()]
        parts: list[str] = []
        at = 0
        for begin, text in sorted(zip(sentence_batch.begin[lo:hi].tolist(), texts, strict=True)):
            if begin < at:  # overlapping sentences: keep the first's characters
                text, begin = text[at - begin :], at
            parts.append("\n" * (begin - at))
            parts.append(text)
            at = begin + len(text)
        found = split_sections("".join(parts), rules)
        starts_names[row] = ([s.begin for s in found], [s.header.name for s in found])
    return starts_names


def sections_from_annotations(
    section_batch: AnnotationBatch, chunk_batch: AnnotationBatch
) -> list[str]:
    """Each chunk's section from a ``section`` column (SectionDetector's): the last section
    that begins at or before the chunk (its ``result``, the normalised name)."""
    starts_names: dict[int, tuple[list[int], list[str]]] = {}
    found = sorted(
        zip(
            section_batch.row_of().tolist(),
            section_batch.begin.tolist(),
            section_batch.result,
            strict=True,
        )
    )
    for row, begin, name in found:
        starts, names = starts_names.setdefault(row, ([], []))
        starts.append(begin)
        names.append(name or NO_SECTION)
    return _section_at(chunk_batch, chunk_batch.row_of().tolist(), starts_names)


def chunk_sections(
    sentence_batch: AnnotationBatch,
    chunk_batch: AnnotationBatch,
    sections: pa.Array | None,
    rules: SectionRules,
) -> list[str]:
    """Each chunk's section name: from a ``section`` column where one is given; else from the
    chunks' ``section`` metadata (NerConverter's, with a section column) in rows where any
    chunk has it (a chunk without it lies before the first header); else found by ``rules``
    in the sentences (:func:`sections_from_sentences`)."""
    if sections is not None:
        section_batch = AnnotationBatch(sections)
        if section_batch.num_rows != chunk_batch.num_rows:
            raise ValueError(
                f"sections and chunks must have as many rows: {section_batch.num_rows}, "
                f"{chunk_batch.num_rows}"
            )
        return sections_from_annotations(section_batch, chunk_batch)
    if not len(chunk_batch):
        return []
    given = chunk_batch.metadata("section")
    if given.null_count == len(given):
        return sections_from_sentences(sentence_batch, chunk_batch, rules)
    rows = chunk_batch.row_of()
    values = given.to_pylist()
    has = np.zeros(chunk_batch.num_rows, dtype=bool)
    has[rows[[v is not None for v in values]]] = True
    if has[rows].all():
        return [v or NO_SECTION for v in values]
    # Only the rows without the metadata need their headers found.
    chunk_rows = rows.tolist()
    missing = np.flatnonzero(~has[rows]).tolist()
    starts_names = _sentence_sections(sentence_batch, {chunk_rows[i] for i in missing}, rules)
    found = _section_at(chunk_batch, chunk_rows, starts_names, missing)
    names = [v or NO_SECTION for v in values]
    for i, name in zip(missing, found, strict=True):
        names[i] = name
    return names


def _section_at(
    chunk_batch: AnnotationBatch,
    chunk_rows: list[int],
    starts_names: dict[int, tuple[list[int], list[str]]],
    chunks: list[int] | None = None,
) -> list[str]:
    """The section of each chunk (of those numbered ``chunks`` only, where given)."""
    begins = chunk_batch.begin.tolist()
    result = []
    for c in range(len(chunk_rows)) if chunks is None else chunks:
        starts, names = starts_names.get(chunk_rows[c], ([], []))
        i = bisect_right(starts, begins[c]) - 1
        result.append(names[i] if i >= 0 else NO_SECTION)
    return result


# -- the batch function --------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifierModel:
    """What a classifier folder holds: the rules its features read and the classifier."""

    rules: ContextRules
    classifier: AssertionClassifier
    section_rules: SectionRules = field(default_factory=SectionRules)

    def feature_rules(self) -> ContextRules:
        """The rules as the features see them: every entity type asserted (the entity type is
        a feature of its own)."""
        return self._feature_rules

    def trigger_rules(self) -> ContextRules:
        """:meth:`feature_rules` with the scopes of the classifier's trigger features."""
        return self._trigger_rules

    # Made once per model, so that what the rules derive once (their index) lasts.
    @cached_property
    def _feature_rules(self) -> ContextRules:
        return self.rules.with_settings(unasserted_entities=())

    @cached_property
    def _trigger_rules(self) -> ContextRules:
        reach = self.classifier.settings.trigger_scope
        rules = self.feature_rules()
        return rules.with_settings(max_scope=reach, max_scope_backward=reach) if reach else rules


def classify_chunks(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    sections: pa.Array | None,
    model: ClassifierModel,
) -> pa.Array:
    """One ``assertion`` annotation per chunk, as :func:`~sparkner.assertion.context.
    assert_chunks` writes them, the label chosen by the classifier: ``confidence`` is its
    probability, ``trigger`` the rule the ConText rules would have decided by (-1: none).
    ``sections``: a ``section`` column, or None to find the sections from the sentences."""
    contexts, (offsets, keys) = _features_of(sentences, tokens, chunks, sections, model)
    classifier = model.classifier
    probabilities = classifier.probabilities(offsets, keys)
    best = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
    label_names = pa.array(classifier.labels, pa.string())
    labels = pc.take(label_names, pa.array(best, pa.int64()))
    confidence = pa.array(
        [f"{p:.4f}" for p in probabilities[np.arange(len(best)), best].tolist()], pa.string()
    )
    return assertion_annotations(AnnotationBatch(chunks), contexts, labels, confidence)


def _features_of(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    sections: pa.Array | None,
    model: ClassifierModel,
) -> tuple[ChunkContexts, tuple[np.ndarray, np.ndarray]]:
    reach = model.trigger_rules()
    contexts = chunk_contexts(sentences, tokens, chunks, model.feature_rules(), reach)
    chunk_batch = AnnotationBatch(chunks)
    names = chunk_sections(AnnotationBatch(sentences), chunk_batch, sections, model.section_rules)
    entities = chunk_batch.metadata("entity").to_pylist() if len(chunk_batch) else []
    settings = model.classifier.settings
    features = chunk_features(contexts.labels, contexts, entities, names, reach, settings)
    return contexts, features


def chunk_feature_rows(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    rules: ContextRules,
    settings: FeatureSettings,
    sections: pa.Array | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The features of every chunk of a batch as CSR ``(offsets, keys)``, as
    :func:`classify_chunks` computes them, for training: ``rules`` are the rules the
    classifier will be shipped with."""
    labels = len(LABELS)
    placeholder = AssertionClassifier(
        LABELS,
        settings,
        np.zeros(0, np.int64),
        np.zeros((0, labels), np.float32),
        np.zeros(labels, np.float32),
    )
    model = ClassifierModel(rules, placeholder)
    return _features_of(sentences, tokens, chunks, sections, model)[1]


# -- training ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSettings:
    """The regression's settings: L2 strength (on the mean weighted loss), the class weight
    power (0: none; 1: each class weighs as much in all), L-BFGS iterations, and the fewest
    chunks a feature must occur in to get a weight."""

    l2: float = 1e-3
    class_weight_power: float = 0.0
    iterations: int = 300
    min_count: int = 1


def train_classifier(
    features: tuple[np.ndarray, np.ndarray],
    labels: Sequence[str],
    feature_settings: FeatureSettings,
    settings: TrainingSettings = TrainingSettings(),
    sample_weights: Sequence[float] | None = None,
    label_set: Sequence[str] = LABELS,
) -> AssertionClassifier:
    """A classifier fitted to chunks' features (CSR ``(offsets, keys)``, as
    :func:`chunk_feature_rows` gives them) and gold labels:
    multinomial logistic regression, minimising the weighted mean cross-entropy plus
    ``l2 / 2 * |W|^2`` by L-BFGS (deterministic)."""
    offsets, keys = features
    if len(offsets) != len(labels) + 1 or not labels:
        raise ValueError("features and labels must be as many, and not none")
    unknown = sorted(set(labels) - set(label_set))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; known: {list(label_set)}")
    vocabulary, columns, counts = np.unique(keys, return_inverse=True, return_counts=True)
    kept = counts >= settings.min_count
    remap = np.cumsum(kept) - 1
    keep_entry = kept[columns]
    columns = remap[columns][keep_entry]
    rows_of_entry = np.repeat(np.arange(len(labels)), np.diff(offsets))[keep_entry]
    vocabulary = vocabulary[kept]
    targets = np.array([label_set.index(label) for label in labels], dtype=np.int64)
    n, k, v = len(labels), len(label_set), len(vocabulary)
    weights = np.ones(n) if sample_weights is None else np.asarray(sample_weights, float)
    frequency = np.bincount(targets, weights=weights, minlength=k)
    if settings.class_weight_power:
        scale = (frequency.sum() / (k * np.maximum(frequency, 1e-9))) ** settings.class_weight_power
        weights = weights * scale[targets]
    weights = weights / weights.sum()
    one_hot = np.zeros((n, k))
    one_hot[np.arange(n), targets] = 1.0
    # Entries sorted by row: the logits are running sums over them.
    entry_offsets = np.concatenate([[0], np.cumsum(np.bincount(rows_of_entry, minlength=n))])

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: v * k].reshape(v, k), theta[v * k :]
        logits = _row_sums(w[columns], entry_offsets) + b
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        loss = float(weights @ (log_norm - logits[np.arange(n), targets]))
        residual = (np.exp(logits - log_norm[:, None]) - one_hot) * weights[:, None]
        grad_w: np.ndarray = np.stack(
            [np.bincount(columns, residual[rows_of_entry, j], minlength=v) for j in range(k)],
            axis=1,
        )
        loss += 0.5 * settings.l2 * float((w * w).sum())
        grad_w = grad_w + settings.l2 * w
        return loss, np.concatenate([grad_w.ravel(), residual.sum(axis=0)])

    theta = lbfgs(loss_and_gradient, np.zeros(v * k + k), settings.iterations)
    return AssertionClassifier(
        tuple(label_set),
        feature_settings,
        vocabulary.astype(np.int64),
        theta[: v * k].reshape(v, k).astype(np.float32),
        theta[v * k :].astype(np.float32),
    )


def lbfgs(
    function: Any, x: np.ndarray, iterations: int, memory: int = 10, tolerance: float = 1e-7
) -> np.ndarray:
    """Minimise a smooth ``function(x) -> (value, gradient)`` by L-BFGS with a backtracking
    (Armijo) line search, from ``x``, for at most ``iterations`` steps."""
    value, gradient = function(x)
    s_list: list[np.ndarray] = []
    y_list: list[np.ndarray] = []
    for _ in range(iterations):
        direction = -gradient
        alphas = []
        for s, y in zip(reversed(s_list), reversed(y_list), strict=True):
            alpha = (s @ direction) / (y @ s)
            direction = direction - alpha * y
            alphas.append(alpha)
        if s_list:
            direction = direction * ((s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]))
        for (s, y), alpha in zip(zip(s_list, y_list, strict=True), reversed(alphas), strict=True):
            beta = (y @ direction) / (y @ s)
            direction = direction + s * (alpha - beta)
        slope = gradient @ direction
        if slope >= 0:  # not a descent direction: start the memory afresh
            s_list.clear()
            y_list.clear()
            direction, slope = -gradient, -(gradient @ gradient)
        step = 1.0 if s_list else 1.0 / max(np.sqrt(gradient @ gradient), 1e-12)
        while True:
            candidate = x + step * direction
            new_value, new_gradient = function(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s_vec, y_vec = candidate - x, new_gradient - gradient
        x, previous, value, gradient = candidate, value, new_value, new_gradient
        if y_vec @ s_vec > 1e-12:
            s_list.append(s_vec)
            y_list.append(y_vec)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        if abs(previous - value) <= tolerance * max(abs(value), 1.0):
            break
    return x


# -- files ---------------------------------------------------------------------------------


def has_classifier(folder: str | os.PathLike[str]) -> bool:
    """Whether a model folder holds a classifier (else its rules decide alone)."""
    return (Path(folder) / CLASSIFIER_FILE).is_file()


def save_classifier(classifier: AssertionClassifier, folder: str | os.PathLike[str]) -> None:
    """Write ``assertion_classifier.json`` (labels, settings, training record) and
    ``assertion_classifier.npz`` (keys, weights, bias) into ``folder``."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    header = {
        "format": CLASSIFIER_FORMAT,
        "version": CLASSIFIER_VERSION,
        "labels": list(classifier.labels),
        "features": asdict(classifier.settings),
        "record": classifier.record,
    }
    (root / CLASSIFIER_FILE).write_text(json.dumps(header, indent=1) + "\n", encoding="utf-8")
    with open(root / WEIGHTS_FILE, "wb") as handle:
        np.savez_compressed(
            handle, keys=classifier.keys, weights=classifier.weights, bias=classifier.bias
        )


def load_classifier(folder: str | os.PathLike[str]) -> AssertionClassifier:
    """Read a classifier saved by :func:`save_classifier` (JSON and ``.npz``, no pickle)."""
    root = Path(folder)
    header = read_versioned_json(
        root / CLASSIFIER_FILE,
        CLASSIFIER_FORMAT,
        CLASSIFIER_VERSION,
        ClassifierFileError,
        "assertion classifier",
    )
    try:
        with np.load(root / WEIGHTS_FILE, allow_pickle=False) as arrays:
            keys, weights, bias = arrays["keys"], arrays["weights"], arrays["bias"]
        return AssertionClassifier(
            tuple(str(label) for label in header["labels"]),
            FeatureSettings(**header["features"]),
            keys.astype(np.int64),
            weights.astype(np.float32),
            bias.astype(np.float32),
            dict(header.get("record", {})),
        )
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ClassifierFileError(
            f"{root}: damaged assertion classifier ({type(error).__name__}: {error})"
        ) from None
