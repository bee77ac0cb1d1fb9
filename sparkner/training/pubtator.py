"""A reader of PubTator files (the NCBI-disease corpus with concept identifiers).

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>class<TAB>identifiers

Offsets are into title + " " + abstract, end exclusive. Identifiers are MeSH (``D...``,
``C...``) or ``OMIM:...``, several joined by ``|`` (a composite mention) or ``+``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

_SPLIT = re.compile(r"[|+]")


@dataclass(frozen=True)
class Mention:
    begin: int
    end: int  # exclusive
    text: str
    kind: str
    ids: tuple[str, ...]


@dataclass
class Abstract:
    pmid: str
    text: str
    mentions: list[Mention] = field(default_factory=list)


def _ids(field_text: str) -> tuple[str, ...]:
    ids = []
    for part in _SPLIT.split(field_text.strip()):
        part = part.strip()
        if part.upper().startswith("MESH:"):
            part = part[5:]
        if part:
            ids.append(part)
    return tuple(ids)


def read_pubtator(path: str | os.PathLike[str]) -> list[Abstract]:
    """The abstracts of a PubTator file, in file order; errors name the file and line."""
    abstracts: list[Abstract] = []
    titles: dict[str, str] = {}
    current: Abstract | None = None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if "|t|" in line[:20]:
                pmid, _, title = line.partition("|t|")
                titles[pmid] = title
                continue
            if "|a|" in line[:20]:
                pmid, _, abstract = line.partition("|a|")
                if pmid not in titles:
                    raise ValueError(f"{path}, line {number}: an abstract without a title")
                current = Abstract(pmid, f"{titles.pop(pmid)} {abstract}")
                abstracts.append(current)
                continue
            fields = line.split("\t")
            if len(fields) != 6 or current is None or fields[0] != current.pmid:
                raise ValueError(f"{path}, line {number}: expected a mention of the abstract above")
            begin, end = int(fields[1]), int(fields[2])
            # A few mentions differ from their span in blanks only.
            if current.text[begin:end].split() != fields[3].split():
                raise ValueError(f"{path}, line {number}: the offsets do not give the mention")
            current.mentions.append(
                Mention(begin, end, current.text[begin:end], fields[4], _ids(fields[5]))
            )
    return abstracts
