"""The annotated clinical notes (``data/clinical_notes``): brat ``.ann`` files whose mentions
(PROBLEM, TEST, TREATMENT) each carry an assertion (``A<n>\\tAssertion T<n> <value>``), and
the kind of each note, read from its MTSamples row.

Note kinds are those the corpus was drawn by (its README): consult / H&P, progress / office,
discharge summary, emergency, diagnostic report, operative / procedure. MTSamples files notes
by specialty, not by kind, so :func:`note_kind` decides from the row's specialty and sample
name, in the order written below, and from the note's first header when those say nothing.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sparkner.embeddings.readers import open_maybe_compressed
from sparkner.training.brat import BratFormatError, parse_standoff


@dataclass(frozen=True)
class Mention:
    begin: int  # inclusive
    end: int  # exclusive, as brat writes it
    type: str
    assertion: str


@dataclass(frozen=True)
class Note:
    id: str
    text: str
    mentions: tuple[Mention, ...]


def read_note(txt: Path) -> Note:
    """One note and its mentions; a mention without an assertion line is ``present``."""
    text = txt.open(encoding="utf-8", newline="").read()
    ann = txt.with_suffix(".ann")
    lines = ann.open(encoding="utf-8", newline="").read().splitlines() if ann.exists() else []
    standoff = parse_standoff(lines, len(text), ann)
    assertions: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if line.startswith("A"):
            fields = line.split("\t")[1].split() if "\t" in line else []
            if len(fields) != 3 or fields[0] != "Assertion":
                raise BratFormatError(f"{ann}, line {number}: expected 'Assertion T<n> <value>'")
            assertions[fields[1]] = fields[2]
    mentions = [
        Mention(begin, end, bound.type, assertions.get(ident, "present"))
        for ident, bound in standoff.textbounds.items()
        for begin, end in bound.fragments
    ]
    return Note(txt.stem, text, tuple(sorted(mentions, key=lambda m: (m.begin, m.end))))


def read_notes(folder: str | os.PathLike[str]) -> list[Note]:
    """Every note of a split folder (``clinical_notes/dev``), in name order."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{folder}: no such notes folder")
    return [read_note(path) for path in sorted(root.glob("*.txt"))]


KINDS = ("consult", "progress", "discharge", "emergency", "diagnostic", "operative")

_DIAGNOSTIC_NAME = re.compile(
    r"\b(?:mri|mra|ct|cta|x-?ray|ultrasound|echo\w*|doppler|eeg|emg|ekg|ecg|"
    r"mammogra\w*|angiogra\w*|scan|pathology|biopsy report|\w*gram)\b",
    re.IGNORECASE,
)
_OPERATIVE_TEXT = re.compile(
    r"\b(?:PRE-?OPERATIVE DIAGNOS[IE]S|(?:OPERATIONS?|PROCEDURES?)(?: PERFORMED)?)\s*:"
)


def note_kind(specialty: str, sample_name: str, text: str) -> str:
    """One of :data:`KINDS` for an MTSamples note."""
    specialty, name = specialty.strip().lower(), sample_name.strip().lower()
    if "discharge" in specialty or "discharge" in name:
        return "discharge"
    if "emergency" in specialty or re.search(r"\ber\b", name):
        return "emergency"
    if (
        "progress" in specialty
        or "office" in specialty
        or re.search(r"soap|progress|follow|postop", name)
    ):
        return "progress"
    if "consult" in specialty or re.search(r"consult|history|h&p|evaluation", name):
        return "consult"
    if _OPERATIVE_TEXT.search(text[:400]):
        return "operative"
    if specialty in ("radiology", "lab medicine - pathology") or _DIAGNOSTIC_NAME.search(name):
        return "diagnostic"
    return "operative" if "surgery" in specialty else "consult"


def mtsamples_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """The rows of MTSamples' CSV (optionally compressed), as dicts."""
    import io

    csv.field_size_limit(1 << 30)
    with (
        open_maybe_compressed(path) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as handle,
    ):
        yield from csv.DictReader(handle)
