"""``Brat(label_map).readDataset(spark, folder)``: brat standoff documents as IOB2-labelled
tokens, in the same columns as the CoNLL reader (text, document, sentence, token, label).

Entities are aligned to sparkner's own sentences and tokens (the stages a pipeline runs at
inference), with these documented rules:

- only the types in ``label_map`` count; they are renamed to its values, the rest are ``O``;
  a value may also be a function of the entity's text that returns the label, or None for
  ``O`` (Chia's Procedure is a test or a treatment depending on what it names);
- a discontinuous entity (``T1 Drug 10 15;20 28``) gives one entity per fragment;
- nested or overlapping entities of mapped types: the longest wins (then the earliest), the
  ones overlapping it are dropped and counted;
- a token belongs to an entity when it overlaps it; tokens that an entity covers only in part
  are counted as ``cut_tokens`` (an entity boundary inside a token);
- entities that touch no token are counted as ``unaligned``.

Offsets are character offsets into the ``.txt`` read as-is (``\\r`` kept), as brat counts them.

``span_convention="clinical"`` first extends MACCROBAT's heads by the modifiers linked to them
(:mod:`sparkner.training.clinical_spans`, which reads events and relations with
:func:`read_standoff`); the rules above then apply to the extended spans.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.annotation import (
    NAMED_ENTITY,
    AnnotationBatch,
    build_annotations,
)
from sparkner.training.clinical_spans import extend_spans
from sparkner.training.conll import training_frame
from sparkner.training.standoff import Relation, Standoff, TextBound


class BratFormatError(ValueError):
    """A line of a ``.ann`` file is not valid brat standoff."""


@dataclass(frozen=True)
class Entity:
    type: str
    begin: int  # inclusive
    end: int  # exclusive, as brat writes it


@dataclass
class AlignmentReport:
    """What alignment had to decide, summed over the documents read."""

    entities: Counter = field(default_factory=Counter)
    dropped_overlaps: int = 0
    cut_tokens: int = 0
    unaligned: int = 0


def _fragments(
    path: str | os.PathLike[str], number: int, spans: str, text_length: int
) -> list[tuple[int, int]]:
    """The ``start end[;start end...]`` offsets of a ``T`` line, checked against the text."""
    fragments = []
    for fragment in spans.split(";"):
        bounds = fragment.split()
        try:
            begin, end = int(bounds[0]), int(bounds[1])
        except (IndexError, ValueError):
            raise BratFormatError(
                f"{path}, line {number}: expected 'start end' offsets, found {fragment!r}"
            ) from None
        if not 0 <= begin < end <= text_length:
            raise BratFormatError(
                f"{path}, line {number}: span {begin}-{end} is outside the text "
                f"({text_length} characters)"
            )
        fragments.append((begin, end))
    return fragments


def read_ann(path: str | os.PathLike[str], text_length: int) -> list[Entity]:
    """The text-bound (``T``) annotations of a ``.ann`` file, one entity per fragment."""
    entities: list[Entity] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.startswith("T"):
                continue  # events, relations, attributes, notes: not NER
            parts = line.split("\t")
            if len(parts) < 2:
                raise BratFormatError(f"{path}, line {number}: expected 'T<n><TAB>Type start end'")
            type_name, _, spans = parts[1].partition(" ")
            for begin, end in _fragments(path, number, spans, text_length):
                entities.append(Entity(type_name, begin, end))
    return entities


def parse_standoff(
    lines: Iterable[str], text_length: int, source: str | os.PathLike[str] = "<ann>"
) -> Standoff:
    """Parse brat standoff lines (``T``, ``E``, ``R``; others ignored); ``source`` names the
    file in errors."""
    standoff = Standoff()
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        parts = line.split("\t")
        kind = line[:1]
        if kind not in ("T", "E", "R"):
            continue
        if len(parts) < 2 or not parts[1].strip():
            raise BratFormatError(f"{source}, line {number}: expected '{kind}<n><TAB>...'")
        ident, body = parts[0], parts[1]
        if kind == "T":
            type_name, _, spans = body.partition(" ")
            fragments = tuple(_fragments(source, number, spans, text_length))
            surface = parts[2] if len(parts) > 2 else ""
            standoff.textbounds[ident] = TextBound(ident, type_name, fragments, surface)
        elif kind == "E":
            # "Sign_symptom:T5 [Role:Tn ...]": the first item is the type and the trigger.
            _, colon, trigger = body.split()[0].partition(":")
            if not colon or not trigger:
                raise BratFormatError(f"{source}, line {number}: expected 'Type:T<n>'")
            standoff.events[ident] = trigger
        else:
            name, *args = body.split()
            named = dict(a.partition(":")[::2] for a in args)
            if "Arg1" not in named or "Arg2" not in named:
                raise BratFormatError(
                    f"{source}, line {number}: expected 'Type Arg1:<id> Arg2:<id>'"
                )
            standoff.relations.append(Relation(ident, name, named["Arg1"], named["Arg2"]))
    return standoff


def read_standoff(path: str | os.PathLike[str], text_length: int) -> Standoff:
    """:func:`parse_standoff` of a ``.ann`` file."""
    with open(path, encoding="utf-8", newline="") as handle:
        return parse_standoff(handle, text_length, path)


def resolve_overlaps(entities: list[Entity], report: AlignmentReport) -> list[Entity]:
    """Keep the longest of overlapping entities (then the earliest); count the dropped."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (-(e.end - e.begin), e.begin, e.type)):
        if any(entity.begin < k.end and k.begin < entity.end for k in kept):
            report.dropped_overlaps += 1
        else:
            kept.append(entity)
    return sorted(kept, key=lambda e: e.begin)


def iob_tags(
    token_begins: np.ndarray,
    token_ends: np.ndarray,
    entities: list[Entity],
    report: AlignmentReport,
) -> list[str]:
    """IOB2 tags for tokens (``end`` inclusive) from non-overlapping entities."""
    tags = ["O"] * len(token_begins)
    for entity in entities:
        inside = np.flatnonzero((token_begins < entity.end) & (token_ends >= entity.begin))
        if len(inside) == 0:
            report.unaligned += 1
            continue
        report.entities[entity.type] += 1
        for position, t in enumerate(inside.tolist()):
            tags[t] = ("B-" if position == 0 else "I-") + entity.type
            if token_begins[t] < entity.begin or token_ends[t] >= entity.end:
                report.cut_tokens += 1
    return tags


def labelled_table(
    ids: list[str], texts: list[str], entities: list[list[Entity]], report: AlignmentReport
) -> pa.Table:
    """NER training columns (id, text, document, sentence, token, label) of texts whose
    entities (non-overlapping, character offsets) are known; a text without any is all O."""
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    columns = LightPipeline(stages).annotate_batch(texts)
    tokens = AnnotationBatch(columns["token"])
    labels: list[str] = []
    for row, found in enumerate(entities):
        lo, hi = tokens.row_offsets[row], tokens.row_offsets[row + 1]
        labels += iob_tags(tokens.begin[lo:hi], tokens.end[lo:hi], found, report)
    label = build_annotations(
        NAMED_ENTITY,
        tokens.row_offsets,
        tokens.begin,
        tokens.end,
        labels,
        {"word": tokens.annotations.field("result"), "sentence": tokens.int_metadata("sentence")},
    )
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "text": pa.array(texts, pa.string()),
            "document": columns["document"],
            "sentence": columns["sentence"],
            "token": columns["token"],
            "label": label,
        }
    )


SPAN_CONVENTIONS = ("annotated", "clinical")


class Brat:
    """Reads a folder of brat ``.txt`` / ``.ann`` pairs into NER training columns.

    ``span_convention``: ``"annotated"`` takes each entity's span as written; ``"clinical"``
    extends the spans of MACCROBAT's heads by the modifiers that MODIFY them, as the 2010
    i2b2/VA guidelines mark concepts (:mod:`sparkner.training.clinical_spans`; the label map
    must then name labels, not functions).
    """

    def __init__(
        self,
        label_map: Mapping[str, str | Callable[[str], str | None]],
        documents: list[str] | None = None,
        span_convention: str = "annotated",
    ) -> None:
        if not label_map:
            raise ValueError("label_map must map at least one brat type to a label")
        if span_convention not in SPAN_CONVENTIONS:
            raise ValueError(
                f"span_convention must be one of {SPAN_CONVENTIONS}, got {span_convention!r}"
            )
        if span_convention == "clinical" and any(callable(v) for v in label_map.values()):
            raise ValueError("the clinical span convention needs a label map of labels only")
        self.label_map = dict(label_map)
        self.documents = documents  # document ids (file stems) to read; None: all
        self.span_convention = span_convention
        self.report = AlignmentReport()

    def read_table(self, folder: str | os.PathLike[str]) -> pa.Table:
        root = Path(folder)
        if not root.is_dir():
            raise FileNotFoundError(f"{folder}: no such brat folder")
        stems = sorted(p.stem for p in root.glob("*.txt"))
        if self.documents is not None:
            wanted = set(self.documents)
            stems = [s for s in stems if s in wanted]
        # newline="": keep "\r" as brat counts it in its offsets.
        texts = [
            (root / f"{s}.txt").open(encoding="utf-8", errors="replace", newline="").read()
            for s in stems
        ]
        entities = []
        for stem, text in zip(stems, texts, strict=True):
            ann = root / f"{stem}.ann"
            if self.span_convention == "clinical":
                mapped = self._clinical(ann, text) if ann.exists() else []
            else:
                mapped = self._annotated(ann, text) if ann.exists() else []
            entities.append(resolve_overlaps(mapped, self.report))
        return labelled_table(stems, texts, entities, self.report)

    def _annotated(self, ann: Path, text: str) -> list[Entity]:
        mapped = []
        for e in read_ann(ann, len(text)):
            rule = self.label_map.get(e.type)
            label = rule(text[e.begin : e.end]) if callable(rule) else rule
            if label:
                mapped.append(Entity(label, e.begin, e.end))
        return mapped

    def _clinical(self, ann: Path, text: str) -> list[Entity]:
        # The clinical convention's map holds labels only (checked in __init__).
        labels = {kind: label for kind, label in self.label_map.items() if not callable(label)}
        spans = extend_spans(read_standoff(ann, len(text)), text, labels)
        return [Entity(s.label, s.begin, s.end) for s in spans]

    def readDataset(self, spark: SparkSession, folder: str | os.PathLike[str]) -> DataFrame:
        return training_frame(spark, self.read_table(folder))
