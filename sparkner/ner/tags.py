"""From per-token tags to entity spans, for any common tag scheme.

Understood: IOB2 / BIO (``B-X``, ``I-X``), IOB1 (``I-X`` opening an entity), BIOES / BILOU
(``E-``/``L-`` ends, ``S-``/``U-`` single tokens) and tags with no scheme at all (``PROBLEM``:
consecutive equal tags form one entity). ``O``, empty and missing tags are outside.
"""

from __future__ import annotations

from collections.abc import Sequence

OUTSIDE = ("O", "", None)
_PREFIXES = {"B": "begin", "I": "inside", "E": "end", "L": "end", "S": "single", "U": "single"}


def split_tag(tag: str | None) -> tuple[str, str | None]:
    """``(role, entity)``: role is outside, begin, inside, end or single."""
    if tag in OUTSIDE:
        return "outside", None
    assert tag is not None
    prefix, sep, entity = tag.partition("-")
    if sep and prefix in _PREFIXES and entity:
        return _PREFIXES[prefix], entity
    return "inside", tag  # no scheme: the tag is the entity type


def tag_spans(tags: Sequence[str | None]) -> list[tuple[int, int, str]]:
    """Entities as ``(first token, last token, type)``, both indices inclusive."""
    spans: list[tuple[int, int, str]] = []
    current: list = []  # [first, last, entity] of the open entity
    for i, tag in enumerate(tags):
        role, entity = split_tag(tag)
        if role == "outside":
            current = _close(spans, current)
            continue
        continues = bool(current) and current[2] == entity and current[1] == i - 1
        if role in ("begin", "single") or not continues:
            current = _close(spans, current)
            current = [i, i, entity]
        else:
            current[1] = i
        if role in ("end", "single"):
            current = _close(spans, current)
    _close(spans, current)
    return spans


def _close(spans: list[tuple[int, int, str]], current: list) -> list:
    if current:
        spans.append((current[0], current[1], current[2]))
    return []


def entity_types(tags: Sequence[str]) -> list[str]:
    """The entity types a tag set names, sorted."""
    return sorted({entity for role, entity in map(split_tag, tags) if entity is not None})
