"""Assertion on given character spans: the chunk column built from spans, and the whole
text -> sentences -> tokens -> assertions path run locally (no Spark), for evaluation on
gold spans, the benchmark and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pyarrow as pa

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.assertion.context import ContextRules, assert_chunks
from sparkner.core.annotation import CHUNK, AnnotationBatch, build_annotations

Span = tuple[int, int]  # begin, end inclusive (the annotation convention)


def chunks_from_spans(
    texts: Sequence[str | None],
    spans: Sequence[Sequence[Span]],
    entities: Sequence[Sequence[str]] | None = None,
) -> pa.Array:
    """A ``chunk`` column: one chunk per span, in the given order, with metadata ``entity``
    (from ``entities``, parallel to ``spans``; else ``ENTITY``) and ``chunk`` (no
    ``sentence``: the assertion stage finds it from the tokens)."""
    counts = np.array([len(s) for s in spans], dtype=np.int64)
    flat = [(row, b, e) for row, row_spans in enumerate(spans) for b, e in row_spans]
    labels = (
        [label for row in entities for label in row]
        if entities is not None
        else ["ENTITY"] * len(flat)
    )
    if len(labels) != len(flat):
        raise ValueError("entities must give one entity class per span")
    results = [(texts[r] or "")[b : e + 1] for r, b, e in flat]
    index = np.concatenate([np.arange(c) for c in counts]) if len(flat) else np.zeros(0)
    return build_annotations(
        CHUNK,
        np.concatenate([[0], np.cumsum(counts)]),
        [b for _, b, _ in flat],
        [e for _, _, e in flat],
        results,
        metadata={"entity": labels, "chunk": index.astype(np.int64)},
    )


def text_columns(texts: Sequence[str | None]) -> dict[str, pa.Array]:
    """The ``document``, ``sentence`` and ``token`` columns of ``texts``: the text stages with
    their defaults, run locally (their batch functions, as the LightPipeline runs them)."""
    text_stages = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer()])
    return text_stages.annotate_batch(texts)


def assert_spans(
    texts: Sequence[str | None],
    spans: Sequence[Sequence[Span]],
    rules: ContextRules,
    entities: Sequence[Sequence[str]] | None = None,
) -> list[list[tuple[int, int, str]]]:
    """``(begin, end, label)`` for every span of every text (``entities``: each span's entity
    class, as :func:`chunks_from_spans`): sparkner's own sentences and tokens (the text
    stages with their defaults), then :func:`assert_chunks`."""
    columns = text_columns(texts)
    chunks = chunks_from_spans(texts, spans, entities)
    assertions = AnnotationBatch(
        assert_chunks(columns["sentence"], columns["token"], chunks, rules)
    )
    begin, end, labels = assertions.begin.tolist(), assertions.end.tolist(), assertions.result
    offsets = assertions.row_offsets.tolist()
    return [
        list(zip(begin[lo:hi], end[lo:hi], labels[lo:hi], strict=True))
        for lo, hi in pairwise(offsets)
    ]
