"""Section headers in clinical notes, and the ``section`` annotations they open.

Header rules (a header is always at a boundary: the start of the text, a line break, MTSamples'
``,`` that stands for one, or a sentence end ``. ``):

- **a phrase and a colon**: ``HISTORY OF PRESENT ILLNESS:``, ``Hx:``, ``,ALLERGIES:,``. A known
  phrase (:mod:`.names`, or a custom header) may be in any case but starts with a capital.
- **a known phrase in capitals, alone on its line**: ``PHYSICAL EXAMINATION`` followed by a line
  break, a ``,`` (MTSamples) or the end of the text, with at least three letters (so "CC" or
  "PE" alone is not taken for a header).
- **an unknown phrase in capitals and a colon** (``EXTREMITIES:``, ``HEENT:``): by default not a
  header at all, so an exam's subsections stay inside ``physical_exam``. With
  ``include_unknown`` it opens a section named by its own snake_case form (``extremities``).

A section runs from its header to just before the next header (or the end of the document),
less trailing whitespace and MTSamples' ``,`` separators. Text before the first header (a
preamble) belongs to no section: only headers open sections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import SECTION, AnnotationBatch, build_annotations
from sparkner.sections.names import (
    SECTION_NAMES,
    SectionName,
    header_key,
    header_table,
    snake_case,
)

# Line breaks (those str.splitlines knows) and MTSamples' comma, which stands for one.
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BOUNDARY = rf"(?:\A|[{_BREAKS},]|\.(?=[ \t]))[ \t]*"
# A phrase of letters (and / & ( ) ' - and single spaces between words) before a colon.
_COLON_HEADER = re.compile(
    _BOUNDARY + r"(?P<header>[A-Z](?:[A-Za-z/&()'\-]| (?! )){0,58}[A-Za-z)]?)[ \t]*:"
)
# A phrase in capitals alone between boundaries, without a colon.
_LINE_HEADER = re.compile(
    rf"(?:\A|(?<=[{_BREAKS},]))[ \t]*(?P<header>[A-Z][A-Z/&()'\-]*(?: [A-Z/&()'\-]+)*)"
    rf"[ \t]*(?=[{_BREAKS},]|\Z)"
)
_TRAILING = f" \t,{_BREAKS}"
MAX_UNKNOWN_WORDS = 6
MIN_LINE_HEADER_LETTERS = 3


@dataclass(frozen=True)
class SectionRules:
    """What the header rules know: the section names (the table and any custom headers,
    which win over the table) and whether unknown capitalised headers open sections."""

    sections: tuple[SectionName, ...] = SECTION_NAMES
    custom: tuple[SectionName, ...] = ()
    include_unknown: bool = False

    @cached_property
    def table(self) -> Mapping[str, str]:
        return header_table((*self.sections, *self.custom))


@dataclass(frozen=True)
class Header:
    """A header found in a text: its span (``end`` exclusive, the colon included) and the
    section it opens."""

    begin: int
    end: int
    name: str


@dataclass(frozen=True)
class Section:
    """A section of a text: its span (``end`` exclusive) and its header."""

    begin: int
    end: int
    header: Header


def _is_unknown_header(phrase: str) -> bool:
    """In capitals, with two letters or more, in a few words."""
    letters = [c for c in phrase if c.isalpha()]
    capitals = len(letters) >= 2 and all(c.isupper() for c in letters)
    return capitals and len(phrase.split()) <= MAX_UNKNOWN_WORDS


def find_headers(text: str, rules: SectionRules) -> list[Header]:
    """The headers of ``text`` in order, none overlapping another."""
    table = rules.table
    found: list[Header] = []
    for match in _COLON_HEADER.finditer(text):
        phrase = match.group("header")
        name = table.get(header_key(phrase))
        if name is None and rules.include_unknown and _is_unknown_header(phrase):
            name = snake_case(phrase) or None
        if name is not None:
            found.append(Header(match.start("header"), match.end(), name))
    for match in _LINE_HEADER.finditer(text):
        phrase = match.group("header")
        name = table.get(header_key(phrase))
        if name is not None and sum(c.isalpha() for c in phrase) >= MIN_LINE_HEADER_LETTERS:
            found.append(Header(match.start("header"), match.end("header"), name))
    found.sort(key=lambda h: h.begin)
    headers: list[Header] = []
    for header in found:
        if not headers or header.begin >= headers[-1].end:
            headers.append(header)
    return headers


def split_sections(text: str, rules: SectionRules) -> list[Section]:
    """The sections of ``text``: each from its header to the next (trailing whitespace and
    commas trimmed); the text before the first header is in none."""
    headers = find_headers(text, rules)
    sections = []
    for i, header in enumerate(headers):
        stop = headers[i + 1].begin if i + 1 < len(headers) else len(text)
        end = len(text[header.end : stop].rstrip(_TRAILING)) + header.end
        sections.append(Section(header.begin, end, header))
    return sections


def detect_sections(documents: pa.Array, rules: SectionRules) -> pa.Array:
    """The sections of every document in a batch, as ``section`` annotations: ``result`` is
    the section's name, ``begin``/``end`` its span (inclusive end), metadata ``section`` its
    name, ``header`` the header as written and ``header_begin``/``header_end`` its span."""
    docs = AnnotationBatch(documents)
    begins: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    headers: list[str] = []
    header_begins: list[int] = []
    header_ends: list[int] = []
    counts = np.zeros(docs.num_rows, dtype=np.int64)
    rows = docs.row_of().tolist()
    for text, offset, row in zip(docs.result, docs.begin.tolist(), rows, strict=True):
        sections = split_sections(text, rules)
        counts[row] += len(sections)
        for section in sections:
            header = section.header
            begins.append(offset + section.begin)
            ends.append(offset + section.end - 1)
            names.append(header.name)
            headers.append(text[header.begin : header.end])
            header_begins.append(offset + header.begin)
            header_ends.append(offset + header.end - 1)
    row_offsets = np.concatenate([[0], np.cumsum(counts)])
    return build_annotations(
        SECTION,
        row_offsets,
        begins,
        ends,
        names,
        metadata={
            "section": names,
            "header": headers,
            "header_begin": np.asarray(header_begins, dtype=np.int64),
            "header_end": np.asarray(header_ends, dtype=np.int64),
        },
    )
