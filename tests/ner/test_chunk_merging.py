"""ChunkMerge's engine: overlaps resolved by the ordering features, renaming, filters."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import CHUNK, build_annotations
from sparkner.ner.chunk_merge import MergeRules, merge_chunks

TEXT = "Chest pain syndrome, on aspirin."


def column(*chunks):
    """One row of chunks ``(begin, end, entity, confidence)``."""
    metadata = {
        "entity": [c[2] for c in chunks],
        "sentence": ["0"] * len(chunks),
        "confidence": [c[3] for c in chunks],
    }
    return build_annotations(
        CHUNK,
        np.array([0, len(chunks)]),
        [c[0] for c in chunks],
        [c[1] for c in chunks],
        [TEXT[c[0] : c[1] + 1] for c in chunks],
        metadata,
    )


NER = column((0, 9, "PROBLEM", "0.9"), (24, 30, "TREATMENT", "0.6"))
MATCHER = column((0, 18, "SYNDROME", None), (24, 30, "DRUG", None))


def merged(rules, *columns):
    sources = ["ner_chunk", "matched"][: len(columns)]
    (row,) = merge_chunks(*columns, rules=rules, sources=sources).to_pylist()
    return [(c["result"], dict(c["metadata"])["entity"], dict(c["metadata"])) for c in row]


def test_sequential_keeps_the_first_columns_chunks():
    rows = merged(MergeRules(), NER, MATCHER)
    assert [(r, e) for r, e, _ in rows] == [("Chest pain", "PROBLEM"), ("aspirin", "TREATMENT")]
    assert [m["ner_source"] for *_, m in rows] == ["ner_chunk", "ner_chunk"]
    assert [m["chunk"] for *_, m in rows] == ["0", "1"]


def test_longer_priorities_confidence_and_no_merging():
    longer = merged(MergeRules(selection_strategy="DiverseLonger"), NER, MATCHER)
    assert [r for r, _, _ in longer] == ["Chest pain syndrome", "aspirin"]
    prioritized = merged(MergeRules(entity_priority=("DRUG",)), NER, MATCHER)
    assert [e for _, e, _ in prioritized] == ["PROBLEM", "DRUG"]
    confident = merged(
        MergeRules(ordering_features=("ChunkConfidence",), default_confidence=0.7), NER, MATCHER
    )
    assert [e for _, e, _ in confident] == ["PROBLEM", "DRUG"]
    everything = merged(
        MergeRules(merge_overlapping=False),
        NER,
        MATCHER,
    )
    assert len(everything) == 4


def test_replacements_and_filters():
    renamed = merged(MergeRules(replace=(("TREATMENT", "DRUG"),), black_list=("PROBLEM",)), NER)
    assert [(r, e) for r, e, _ in renamed] == [("aspirin", "DRUG")]
    kept = merged(MergeRules(white_list=("SYNDROME",)), NER, MATCHER)
    assert [e for _, e, _ in kept] == ["SYNDROME"]
    empty = build_annotations(CHUNK, np.array([0, 0]), [], [], pa.array([], pa.string()), {})
    assert merged(MergeRules(), empty, empty) == []
