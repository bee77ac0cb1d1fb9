"""NerConverter: per-token tags become ``chunk`` annotations, one per entity.

Robust to IOB, IOB2/BIO, BIOES/BILOU, an ``I-`` with no ``B-`` and tags with no scheme
(:mod:`sparkner.ner.tags`). A chunk spans its first token's begin to its last token's end,
its text is cut from the sentence that holds it, so ``text[begin:end + 1] == result`` always.

With a ``section`` column (SectionDetector's) as a fourth input, each chunk's metadata also
names its ``section``: the section that holds the chunk's begin. A chunk before the first
header (or in a row without sections) gets no ``section`` key, as a chunk without scores gets
no ``confidence``. Without that column the chunks are exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml.param import TypeConverters

from sparkner.core.annotation import (
    CHUNK,
    DOCUMENT,
    NAMED_ENTITY,
    SECTION,
    TOKEN,
    AnnotationBatch,
    build_annotations,
)
from sparkner.core.params import declare, warn_unless
from sparkner.ner.tags import entity_types, tag_spans
from sparkner.runtime.udf import BatchFunction
from sparkner.sections.lookup import section_names_at
from sparkner.stages.stage import AnnotatorTransformer, roles


def convert_to_chunks(
    sentences: pa.Array,
    tokens: pa.Array,
    entities: pa.Array,
    sections: pa.Array | None = None,
    *,
    white_list: tuple[str, ...] = (),
) -> pa.Array:
    """Chunks with metadata ``entity``, ``sentence``, ``chunk`` (index within the row) and
    ``confidence`` (mean of the tokens' confidences; the key is left out when the tags carry
    none, as in Spark NLP); with ``sections``, also ``section``: the name of the section that
    holds the chunk's begin (left out where none does)."""
    tags = AnnotationBatch(entities)
    docs = AnnotationBatch(sentences)
    rows = tags.row_of()
    sentence_ids = tags.int_metadata("sentence")
    scores = _token_scores(tags)
    # The sentence (or document) annotations each chunk's text is cut from, by row.
    doc_rows = docs.row_of()
    doc_texts, doc_begins, doc_ends = docs.result, docs.begin, docs.end
    results = tags.result
    begins: list[int] = []
    ends: list[int] = []
    texts: list[str] = []
    entity_types: list[str] = []
    chunk_sentences: list[int] = []
    chunk_scores: list[float | None] = []
    chunk_rows: list[int] = []
    counts = np.zeros(tags.num_rows, dtype=np.int64)
    offsets = tags.sentence_offsets()
    for s in range(len(offsets) - 1):
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        row = int(rows[lo])
        for first, last, entity in tag_spans(results[lo:hi]):
            if white_list and entity not in white_list:
                continue
            begin, end = int(tags.begin[lo + first]), int(tags.end[lo + last])
            text = _cut(begin, end, row, doc_rows, doc_texts, doc_begins, doc_ends)
            if text is None:
                continue  # no sentence holds the span: never emit a chunk with a wrong text
            begins.append(begin)
            ends.append(end)
            texts.append(text)
            entity_types.append(entity)
            chunk_sentences.append(int(sentence_ids[lo]))
            span_scores = None if scores is None else scores[lo + first : lo + last + 1]
            chunk_scores.append(None if span_scores is None else _mean(span_scores))
            chunk_rows.append(row)
            counts[row] += 1
    row_offsets = np.concatenate([[0], np.cumsum(counts)])
    index = np.arange(len(begins)) - np.repeat(row_offsets[:-1], counts)
    confidence_strings = pa.array(
        [None if v is None or v != v else f"{v:.4f}" for v in chunk_scores], pa.string()
    )
    metadata: dict[str, Any] = {
        "entity": entity_types,
        "sentence": np.asarray(chunk_sentences, dtype=np.int64),
        "chunk": index,
        "confidence": confidence_strings,
    }
    if sections is not None:
        # Last, so that the other keys keep their places; None (no section) leaves it out.
        metadata["section"] = pa.array(
            section_names_at(
                sections,
                np.asarray(chunk_rows, dtype=np.int64),
                np.asarray(begins, dtype=np.int64),
            ),
            pa.string(),
        )
    return build_annotations(CHUNK, row_offsets, begins, ends, texts, metadata)


def _token_scores(tags: AnnotationBatch) -> np.ndarray | None:
    """Each tag's score: its ``confidence``, or where the tagger wrote every tag's score
    (``includeAllConfidenceScores``) the score of its own tag, as Spark NLP's converter takes
    it; NaN where there is neither. None when no tag has a score."""
    values = _floats(tags.metadata("confidence"))
    missing = np.isnan(values)
    if missing.any():
        results = np.asarray(tags.result, dtype=object)
        for tag in set(results[missing].tolist()):
            own = tags.metadata(tag)
            if own.null_count == len(own):
                continue
            picked = missing & (results == tag)
            values[picked] = _floats(own)[picked]
    return None if np.isnan(values).all() else values


def _floats(strings: pa.Array) -> np.ndarray:
    """Decimal strings as float64, NaN where null."""
    values = pc.cast(strings, pa.float64()).to_numpy(zero_copy_only=False)
    return np.array(values, dtype=np.float64)


def _mean(values: np.ndarray) -> float | None:
    """The mean of the scores that exist (None if no token of the chunk has one)."""
    known = values[~np.isnan(values)]
    return float(known.mean()) if len(known) else None


def _cut(
    begin: int,
    end: int,
    row: int,
    doc_rows: np.ndarray,
    doc_texts: list[str],
    doc_begins: np.ndarray,
    doc_ends: np.ndarray,
) -> str | None:
    """The text of ``[begin, end]`` from an annotation of the same row that contains it."""
    lo, hi = (int(i) for i in np.searchsorted(doc_rows, [row, row + 1]))
    # Sentences come in text order: the last one starting at or before the span holds it.
    # (Any other order is searched in full: never quadratic for ordinary input.)
    d = lo + int(np.searchsorted(doc_begins[lo:hi], begin, side="right")) - 1
    candidates = (d,) if lo <= d < hi and end <= doc_ends[d] else range(lo, hi)
    for d in candidates:
        if doc_begins[d] <= begin and end <= doc_ends[d]:
            start = begin - int(doc_begins[d])
            return doc_texts[d][start : start + end - begin + 1]
    return None


class NerConverter(AnnotatorTransformer):
    """Turns ``named_entity`` tags into ``chunk`` annotations (inputs: sentence, token, ner,
    and optionally section: ``setInputCols(["sentence", "token", "ner", "section"])`` gives
    every chunk inside a section its name as metadata ``section``)."""

    input_roles = roles(sentence=DOCUMENT, token=TOKEN, ner=NAMED_ENTITY)
    optional_roles = roles(section=SECTION)
    # The chunks come from the tags and the sentences; the tokens stay in the JVM on Spark.
    reads = ("sentence", "ner", "section")
    output_annotator_type = CHUNK

    whiteList = declare(
        "whiteList", "entity types to keep (empty: all)", TypeConverters.toListString, default=[]
    )
    preservePosition = declare(
        "preservePosition",
        "accepted for Spark NLP code: chunks always keep their tokens' positions in the "
        "original text (True); False warns and changes nothing",
        warn_unless(
            TypeConverters.toBoolean,
            True,
            "NerConverter.setPreservePosition(False) has no effect: sparkner's chunks "
            "always keep their positions in the original text",
        ),
        default=True,
    )
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["sentence", "token", "ner"],
        "outputCol": "ner_chunk",
    }

    def output_labels(
        self, input_labels: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        """The entity types of the tagger's tags, less those the white list leaves out."""
        tags = input_labels["ner"]
        if tags is None:
            return None
        keep = self.getWhiteList()
        return tuple(t for t in entity_types(list(tags)) if not keep or t in keep)

    def batch_function(self) -> BatchFunction:
        return partial(convert_to_chunks, white_list=tuple(self.getOrDefault(self.whiteList)))
