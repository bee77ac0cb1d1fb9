"""Gold assertion labels of MACCROBAT: each mapped entity's span with present / absent /
possible, from the ``POLARITY`` attributes of the brat files.

In MACCROBAT an attribute sits on an event (``A3<TAB>POLARITY E7 NEG``), and the event's
trigger is the entity (``E7<TAB>Sign_symptom:T12``). The values found in the data are NEG,
UNCERTAIN, MAYBE_POS, MAYBE_NEG and POS (one); TREND attributes are not assertions. Mapping:

- NEG -> ``absent``; UNCERTAIN, MAYBE_POS, MAYBE_NEG -> ``possible``; no POLARITY (or POS)
  -> ``present``;
- entity types as in :data:`sparkner.training.clinical.MACCROBAT_LABELS` (Sign_symptom,
  Disease_disorder, Diagnostic_procedure, Medication, Therapeutic_procedure); the rest are
  skipped;
- a discontinuous entity gives one mention per fragment (as :mod:`sparkner.training.brat`),
  each with the entity's label; nested and overlapping mentions are all kept (each is a chunk);
  two entities with the very same span give one mention, the one that is not ``present``.

Spans are returned as annotations write them: ``(begin, end, label)`` with ``end`` inclusive.
The documents of a split are chosen exactly as the NER recipe chooses them
(:func:`sparkner.training.splits.split_keys` over the document ids, seed 13, 80/10/10), so the
test documents of the tagger are the test documents here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sparkner.training.brat import BratFormatError, read_standoff
from sparkner.training.clinical import MACCROBAT_LABELS
from sparkner.training.clinical_spans import clinical_entities
from sparkner.training.corpora import brat_group
from sparkner.training.splits import split_keys

PRESENT, ABSENT, POSSIBLE = "present", "absent", "possible"
POLARITY_LABELS = {
    "NEG": ABSENT,
    "UNCERTAIN": POSSIBLE,
    "MAYBE_POS": POSSIBLE,
    "MAYBE_NEG": POSSIBLE,
    "POS": PRESENT,
}

Mention = tuple[int, int, str]


@dataclass(frozen=True)
class GoldDocument:
    """One document's text, its gold mentions ``(begin, end inclusive, label)`` sorted, and
    each mention's entity class (PROBLEM, TEST or TREATMENT)."""

    id: str
    text: str
    mentions: tuple[Mention, ...]
    entities: tuple[str, ...]


def read_assertions(
    path: str | os.PathLike[str], text_length: int, types: Mapping[str, str] | None = None
) -> list[tuple[int, int, str, str]]:
    """The gold mentions of one ``.ann`` file as ``(begin, end, label, entity class)``, sorted
    (see the module docstring for the rules); ``types`` maps brat types to entity classes."""
    spans, classes, labels = _parse(path, text_length, types)
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for entity, fragments in spans.items():
        label = labels.get(entity, PRESENT)
        for begin, end in fragments:
            if found.get((begin, end), (PRESENT,))[0] == PRESENT:
                found[(begin, end)] = (label, classes[entity])
    return sorted((b, e, label, kind) for (b, e), (label, kind) in found.items())


def _parse(
    path: str | os.PathLike[str], text_length: int, types: Mapping[str, str] | None
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, str], dict[str, str]]:
    """The mapped entities' fragments (inclusive ends) and classes, and the assertion label
    of every entity whose event has a POLARITY, all by ``T`` id."""
    wanted = MACCROBAT_LABELS if types is None else types
    spans: dict[str, list[tuple[int, int]]] = {}
    classes: dict[str, str] = {}
    event_trigger: dict[str, str] = {}
    polarity: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            fields = raw.rstrip("\r\n").split("\t")
            kind = fields[0][:1]
            if kind not in "TEA" or len(fields) < 2:
                continue
            try:
                if kind == "T":
                    _read_entity(fields, wanted, text_length, spans, classes)
                elif kind == "E":
                    # "Sign_symptom:T12 Arg:T3 ...": the first pair is the trigger.
                    trigger = fields[1].split()[0].split(":", 1)[1]
                    event_trigger[fields[0]] = trigger
                else:
                    name, target, *values = fields[1].split()
                    if name.upper() == "POLARITY" and values:
                        polarity[target] = values[0].upper()
            except (IndexError, ValueError):
                raise BratFormatError(f"{path}, line {number}: not valid brat standoff") from None
    labels: dict[str, str] = {}
    for target, value in polarity.items():
        entity = event_trigger.get(target, target)
        if value in POLARITY_LABELS:
            labels[entity] = POLARITY_LABELS[value]
    return spans, classes, labels


def read_clinical_assertions(
    path: str | os.PathLike[str], text: str
) -> list[tuple[int, int, str, str]]:
    """:func:`read_assertions` with the spans in the clinical convention
    (:mod:`sparkner.training.clinical_spans`): each extended span takes its head's label."""
    _, _, labels = _parse(path, len(text), None)
    entities = clinical_entities(read_standoff(path, len(text)), text)
    return sorted((e.begin, e.end - 1, labels.get(e.head, PRESENT), e.label) for e in entities)


def _read_entity(
    fields: list[str],
    wanted: Mapping[str, str],
    text_length: int,
    spans: dict[str, list[tuple[int, int]]],
    classes: dict[str, str],
) -> None:
    type_name, _, offsets = fields[1].partition(" ")
    if type_name not in wanted:
        return
    fragments = []
    for fragment in offsets.split(";"):
        begin, end = (int(x) for x in fragment.split())
        if not 0 <= begin < end <= text_length:
            raise ValueError("span outside the text")
        fragments.append((begin, end - 1))  # brat's end is exclusive, annotations' inclusive
    spans[fields[0]] = fragments
    classes[fields[0]] = wanted[type_name]


def split_documents(
    folder: str | os.PathLike[str],
    split: str,
    seed: int = 13,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> list[str]:
    """The document ids (file stems) of one split, in sorted order, as the NER recipe picks
    them (conf/ner_clinical.yaml: seed 13, fractions 0.8/0.1/0.1)."""
    stems = [p.stem for p in sorted(Path(folder).glob("*.txt"))]
    splits = split_keys((brat_group(s) for s in stems), seed, fractions)
    return [s for s in stems if splits[brat_group(s)] == split]


def read_gold(
    folder: str | os.PathLike[str],
    documents: list[str] | None = None,
    span_convention: str = "maccrobat",
) -> list[GoldDocument]:
    """The gold documents of a MACCROBAT folder (all, or the ids in ``documents``), with
    MACCROBAT's own spans or (``"clinical"``) the clinical convention's."""
    folder = Path(folder)
    stems = documents if documents is not None else [p.stem for p in sorted(folder.glob("*.txt"))]
    result = []
    for stem in stems:
        # newline="" keeps "\r": brat offsets count it.
        with open(folder / f"{stem}.txt", encoding="utf-8", newline="") as handle:
            text = handle.read()
        ann = folder / f"{stem}.ann"
        found = (
            read_clinical_assertions(ann, text)
            if span_convention == "clinical"
            else read_assertions(ann, len(text))
        )
        mentions = tuple((b, e, label) for b, e, label, _ in found)
        result.append(GoldDocument(stem, text, mentions, tuple(k for *_, k in found)))
    return result


def read_split(
    folder: str | os.PathLike[str],
    split: str,
    seed: int = 13,
    span_convention: str = "maccrobat",
) -> list[GoldDocument]:
    """The gold documents of one split (train, dev or test) of a MACCROBAT folder."""
    return read_gold(folder, split_documents(folder, split, seed), span_convention)


# -- the annotated clinical notes (data/clinical_notes) ------------------------------------

NOTES_TYPES = ("PROBLEM", "TEST", "TREATMENT")
NOTES_VALUES = (
    "present",
    "absent",
    "possible",
    "hypothetical",
    "conditional",
    "associated_with_someone_else",
)


def read_note_assertions(
    path: str | os.PathLike[str], text_length: int
) -> list[tuple[int, int, str, str]]:
    """The mentions of one note's ``.ann`` file (``T<n><TAB>TYPE start end<TAB>surface`` and
    ``A<n><TAB>Assertion T<n> value``) as ``(begin, end inclusive, value, type)``, sorted; a
    mention without an ``Assertion`` line is ``present``."""
    spans: dict[str, tuple[int, int, str]] = {}
    values: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            fields = raw.rstrip("\r\n").split("\t")
            kind = fields[0][:1]
            if kind not in "TA" or len(fields) < 2:
                continue
            try:
                if kind == "T":
                    type_name, begin, end = fields[1].split(" ")
                    b, e = int(begin), int(end)
                    if type_name not in NOTES_TYPES or not 0 <= b < e <= text_length:
                        raise ValueError
                    spans[fields[0]] = (b, e - 1, type_name)
                else:
                    name, target, value = fields[1].split(" ")
                    if name == "Assertion":
                        if value not in NOTES_VALUES:
                            raise ValueError
                        values[target] = value
            except ValueError:
                raise BratFormatError(f"{path}, line {number}: not a note annotation") from None
    return sorted((b, e, values.get(t, PRESENT), kind) for t, (b, e, kind) in spans.items())


def read_notes(folder: str | os.PathLike[str], split: str) -> list[GoldDocument]:
    """The gold documents of one split folder (``train`` or ``dev``) of the annotated
    clinical notes, in sorted order of their ids."""
    root = Path(folder) / split
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such split folder of the clinical notes")
    result = []
    for path in sorted(root.glob("*.txt")):
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        found = read_note_assertions(path.with_suffix(".ann"), len(text))
        mentions = tuple((b, e, label) for b, e, label, _ in found)
        result.append(GoldDocument(path.stem, text, mentions, tuple(k for *_, k in found)))
    return result
