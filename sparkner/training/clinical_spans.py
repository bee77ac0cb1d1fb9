"""MACCROBAT's entities in the span convention of the 2010 i2b2/VA concept guidelines.

MACCROBAT marks heads only ("cough") and links their modifiers with ``MODIFY`` relations
(``R1<TAB>MODIFY Arg1:T6 Arg2:E3``: Arg1, here "chronic", modifies Arg2, the event of
"cough"). The i2b2/VA guidelines put the modifiers that belong to a concept inside it
("chronic cough", "pulmonary tuberculosis", "thoracoscopic lung biopsy"). The rule:

- a head is an entity of a mapped type (``MACCROBAT_LABELS``: Sign_symptom,
  Disease_disorder -> PROBLEM; Diagnostic_procedure -> TEST; Medication,
  Therapeutic_procedure -> TREATMENT);
- it absorbs every entity that MODIFYs it (Arg2 is the head or its event), or that MODIFYs
  an entity it has already absorbed, when that entity is of a type allowed for its label
  (``CLINICAL_MODIFIERS``) and touches the current span: the text between them is empty, one
  space or one hyphen (an overlapping modifier touches too); this repeats until nothing more
  is absorbed, so "multiple" joins "tiny nodules" once "tiny" has;
- of extended spans that overlap, the longest is kept (ties: the earlier start, then the
  label), the rule the brat reader applies to any overlap.

Discontinuous entities keep the annotated rule: a discontinuous head gives one unextended
entity per fragment, and a discontinuous modifier is never absorbed (its gap is not part of
the concept).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sparkner.training.clinical import MACCROBAT_LABELS
from sparkner.training.standoff import Standoff

_DESCRIPTIVE = frozenset({"Biological_structure", "Detailed_description"})

# Types a concept of each label may absorb: a problem's site and its descriptors; a test's or
# treatment's site and description (not its dosage, frequency or result: i2b2 leaves those out).
CLINICAL_MODIFIERS: dict[str, frozenset[str]] = {
    "PROBLEM": _DESCRIPTIVE | {"Severity", "Shape", "Color", "Texture"},
    "TEST": _DESCRIPTIVE,
    "TREATMENT": _DESCRIPTIVE,
}

# The text allowed between a span and a modifier it absorbs.
JOINS = ("", " ", "-")


@dataclass(frozen=True)
class ClinicalSpan:
    """A mapped entity in the clinical convention; ``head`` is its MACCROBAT ``T`` id and
    ``absorbed`` the ids of the modifiers now inside it (in the order they joined)."""

    label: str
    begin: int
    end: int  # exclusive, as brat writes it
    head: str
    absorbed: tuple[str, ...] = ()

    @property
    def extended(self) -> bool:
        return bool(self.absorbed)


def touches(text: str, span: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether ``other`` overlaps ``span`` or is separated from it by one of ``JOINS``."""
    (begin, end), (o_begin, o_end) = span, other
    if o_end <= begin:
        gap = text[o_end:begin]
    elif o_begin >= end:
        gap = text[end:o_begin]
    else:
        gap = ""  # overlapping
    return gap in JOINS


def extend_spans(
    standoff: Standoff,
    text: str,
    labels: Mapping[str, str] = MACCROBAT_LABELS,
    modifiers: Mapping[str, frozenset[str]] = CLINICAL_MODIFIERS,
) -> list[ClinicalSpan]:
    """Every mapped entity of one document with its span extended by its modifiers, in
    document order; overlaps are not resolved (see :func:`clinical_entities`)."""
    modified_by: dict[str, list[str]] = defaultdict(list)  # T id -> T ids that MODIFY it
    for relation in standoff.relations:
        if relation.type == "MODIFY":
            target, source = standoff.entity_of(relation.arg2), standoff.entity_of(relation.arg1)
            modified_by[target].append(source)

    spans: list[ClinicalSpan] = []
    for ident, entity in standoff.textbounds.items():
        label = labels.get(entity.type)
        if not label:
            continue
        if len(entity.fragments) > 1:
            spans += [ClinicalSpan(label, b, e, ident) for b, e in entity.fragments]
            continue
        allowed = modifiers.get(label, frozenset())
        span = entity.fragments[0]
        inside = [ident]  # the head and what it absorbed, whose modifiers may join
        absorbed: list[str] = []
        grew = True
        while grew:
            grew = False
            candidates = {m for i in inside for m in modified_by.get(i, ())} - set(inside)
            for m in sorted(candidates, key=lambda c: _order(standoff, c)):
                modifier = standoff.textbounds.get(m)
                if (
                    modifier is None
                    or modifier.type not in allowed
                    or len(modifier.fragments) > 1
                    or not touches(text, span, modifier.fragments[0])
                ):
                    continue
                mb, me = modifier.fragments[0]
                span = (min(span[0], mb), max(span[1], me))
                inside.append(m)
                absorbed.append(m)
                grew = True
        spans.append(ClinicalSpan(label, span[0], span[1], ident, tuple(absorbed)))
    return sorted(spans, key=lambda s: (s.begin, s.end, s.label))


def _order(standoff: Standoff, ident: str) -> tuple[int, str]:
    # Candidates in text order, so a document's result does not depend on its line order.
    entity = standoff.textbounds.get(ident)
    return (entity.fragments[0][0] if entity else -1, ident)


def keep_longest(spans: list[ClinicalSpan]) -> list[ClinicalSpan]:
    """Of overlapping spans the longest (then the earliest, then by label), in text order."""
    kept: list[ClinicalSpan] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.begin), s.begin, s.label)):
        if not any(span.begin < k.end and k.begin < span.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.begin)


def clinical_entities(
    standoff: Standoff, text: str, labels: Mapping[str, str] = MACCROBAT_LABELS
) -> list[ClinicalSpan]:
    """The mapped entities of one MACCROBAT document in the clinical convention: spans
    extended by their modifiers, overlaps resolved (the longest kept)."""
    return keep_longest(extend_spans(standoff, text, labels))
