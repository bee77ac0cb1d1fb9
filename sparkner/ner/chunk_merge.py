"""Merging chunk columns (Spark NLP for Healthcare's ``ChunkMergeModel``): NER chunks, matcher
chunks, regex chunks, one column of chunks out.

Every chunk of every input column is a candidate, with its column's precedence (the first
column first), its entity (metadata ``entity``, else ``identifier``), its confidence (metadata
``confidence``, else ``default_confidence``) and its span. Entities are first renamed
(``replace``), then kept by ``white_list`` / dropped by ``black_list``. Without
``merge_overlapping`` every candidate is kept (a chunk given twice, same span and entity, once).
With it, overlapping chunks compete: candidates are taken in the order the ordering features
give, and one is kept unless it overlaps a chunk kept before it:

- ``ChunkBegin``: earlier begin first; ``ChunkLength``: longer first;
- ``ChunkPrecedence``: by ``entity_priority`` (entities listed first win; unlisted ones after
  them), then by column;
- ``ChunkConfidence``: higher confidence first.

The default order is the selection strategy's: ``Sequential`` takes the columns in turn
(``ChunkPrecedence``, then ``ChunkBegin``), ``DiverseLonger`` takes longer chunks first
(``ChunkLength``, ``ChunkPrecedence``, ``ChunkBegin``). The kept chunks come out in text
order, numbered again (``chunk``), each with its own metadata plus ``ner_source`` (the input
column it came from); offsets and texts are the input chunks' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import CHUNK, AnnotationBatch, build_annotations

ORDERING_FEATURES = ("ChunkBegin", "ChunkLength", "ChunkPrecedence", "ChunkConfidence")
SELECTION_STRATEGIES = ("Sequential", "DiverseLonger")
_DEFAULT_ORDER = {
    "Sequential": ("ChunkPrecedence", "ChunkBegin"),
    "DiverseLonger": ("ChunkLength", "ChunkPrecedence", "ChunkBegin"),
}


@dataclass(frozen=True)
class MergeRules:
    merge_overlapping: bool = True
    selection_strategy: str = "Sequential"
    ordering_features: tuple[str, ...] = ()  # empty: the strategy's order
    entity_priority: tuple[str, ...] = ()
    default_confidence: float = 0.0
    white_list: tuple[str, ...] = ()
    black_list: tuple[str, ...] = ()
    replace: tuple[tuple[str, str], ...] = ()


@dataclass
class _Candidate:
    row: int
    column: int
    begin: int
    end: int
    result: str
    entity: str
    confidence: float
    metadata: dict[str, str]


def merge_chunks(*columns: pa.Array | None, rules: MergeRules, sources: Sequence[str]) -> pa.Array:
    """One chunk column from the chunk ``columns`` (named ``sources``), by ``rules``."""
    given = [c for c in columns if c is not None]
    batches = [AnnotationBatch(c) for c in given]
    num_rows = batches[0].num_rows if batches else 0
    replace = dict(rules.replace)
    by_row: list[list[_Candidate]] = [[] for _ in range(num_rows)]
    for column, batch in enumerate(batches):
        rows = batch.row_of()
        for i, row in enumerate(batch.annotations.to_pylist()):
            metadata = dict(row["metadata"] or ())
            named = metadata.get("entity") or metadata.get("identifier") or ""
            entity = replace.get(named, named)
            if rules.white_list and entity not in rules.white_list:
                continue
            if entity in rules.black_list:
                continue
            metadata["entity"] = entity
            metadata["ner_source"] = sources[column]
            by_row[int(rows[i])].append(
                _Candidate(
                    int(rows[i]),
                    column,
                    int(row["begin"]),
                    int(row["end"]),
                    row["result"] or "",
                    entity,
                    _confidence(metadata, rules.default_confidence),
                    metadata,
                )
            )
    kept = [chunk for candidates in by_row for chunk in _select(candidates, rules)]
    return _chunk_column(kept, num_rows)


def _confidence(metadata: dict[str, str], default: float) -> float:
    try:
        return float(metadata["confidence"])
    except (KeyError, ValueError):
        return default


def _select(candidates: list[_Candidate], rules: MergeRules) -> list[_Candidate]:
    """The row's kept chunks, in text order."""
    unique: dict[tuple[int, int, str], _Candidate] = {}
    for c in candidates:
        unique.setdefault((c.begin, c.end, c.entity), c)
    chosen = list(unique.values())
    if rules.merge_overlapping:
        features = rules.ordering_features or _DEFAULT_ORDER[rules.selection_strategy]
        priority = {e: i for i, e in enumerate(rules.entity_priority)}
        chosen.sort(key=lambda c: tuple(_feature(c, f, priority) for f in features))
        kept: list[_Candidate] = []
        for c in chosen:
            if all(c.end < k.begin or k.end < c.begin for k in kept):
                kept.append(c)
        chosen = kept
    return sorted(chosen, key=lambda c: (c.begin, c.end, c.column))


def _feature(c: _Candidate, feature: str, priority: dict[str, int]) -> tuple[float, ...]:
    if feature == "ChunkBegin":
        return (c.begin,)
    if feature == "ChunkLength":
        return (-(c.end - c.begin),)
    if feature == "ChunkPrecedence":
        return (priority.get(c.entity, len(priority)), c.column)
    return (-c.confidence,)


def _chunk_column(kept: Sequence[_Candidate], num_rows: int) -> pa.Array:
    rows = np.array([c.row for c in kept], dtype=np.int64)
    counts = np.bincount(rows, minlength=num_rows)
    row_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    index = np.arange(len(kept)) - row_offsets[rows] if len(kept) else np.zeros(0, np.int64)
    for c, i in zip(kept, index.tolist(), strict=True):
        c.metadata["chunk"] = str(i)
    keys = list(dict.fromkeys(k for c in kept for k in c.metadata))
    metadata = {k: pa.array([c.metadata.get(k) for c in kept], pa.string()) for k in keys}
    return build_annotations(
        CHUNK,
        row_offsets,
        [c.begin for c in kept],
        [c.end for c in kept],
        [c.result for c in kept],
        metadata,
    )
