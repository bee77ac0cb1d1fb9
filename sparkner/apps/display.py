"""Render a note and its entity chunks as one self-contained HTML fragment.

The fragment is meant for Databricks' ``displayHTML(html)`` and Jupyter's
``IPython.display.HTML(html)``. It uses inline ``style`` attributes only (no ``<style>``
block, no JavaScript, no fonts or URLs), because notebook front ends and viewers that
sanitize HTML keep inline styles more often than style blocks.

Example::

    from sparkner.apps.display import render

    result = light_pipeline.fullAnnotate(note)[0]
    html = render(note, result["ner_chunk"], assertions=result["assertion"])
    displayHTML(html)  # Databricks; in Jupyter: IPython.display.HTML(html)

With ``assertions`` (the output of ``sparkner.annotators.assertion.AssertionModel``), absent
entities are struck through in a dashed frame, possible ones italic in a dotted frame, and
every label other than present is written after the entity type; the legend explains them.

Sections: a chunk that names its section (metadata ``section``, as the chunks of a NerConverter
that reads a SectionDetector's column do) carries it as ``data-section`` and a tooltip, and a
small ``§ name`` tag marks where each section's entities begin. With ``sections`` (the
SectionDetector's annotations), the tag sits at the section's start and its header is shown
in bold, as a header.
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from html import escape
from typing import Any

__all__ = ["DEFAULT_COLORS", "color_of", "render"]

# Paul Tol's "light" qualitative scheme: built to stay distinguishable with colour-vision
# deficiencies and to carry black text on top of it.
DEFAULT_COLORS: Mapping[str, str] = {
    "PROBLEM": "#EE8866",
    "TEST": "#77AADD",
    "TREATMENT": "#44BB99",
    "DISEASE": "#FFAABB",
    "CHEMICAL": "#EEDD88",
}

# Colours for other entity types: the rest of Tol's light scheme and his pale one, so that
# no unknown type takes a default type's colour.
_OTHER_COLORS = (
    "#99DDFF",
    "#BBCC33",
    "#AAAA00",
    "#DDDDDD",
    "#BBCCEE",
    "#CCDDAA",
    "#FFCCCC",
    "#EEEEBB",
)

# Colours come from users and go into style attributes: only a hex colour or a plain CSS
# colour name, nothing that could close the attribute or add another declaration.
_COLOR_PATTERN = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})|[a-zA-Z]+")

_DARK_INK = "#1b1b1b"
_LIGHT_INK = "#ffffff"

_BOX_STYLE = (
    "font-family:system-ui,sans-serif;font-size:14px;color:#1b1b1b;background:#ffffff;"
    "padding:0.75em 1em;border:1px solid #dddddd;border-radius:6px"
)
# pre-wrap keeps the note's line breaks and runs of spaces. A <div>, not a <pre>, because
# HTML parsers drop a newline that directly follows <pre>, which would lose note text.
_TEXT_STYLE = "white-space:pre-wrap;overflow-wrap:anywhere;line-height:2.1"
_MARK_STYLE = (
    "padding:0.15em 0.3em;border-radius:0.35em;"
    "-webkit-box-decoration-break:clone;box-decoration-break:clone"
)
# Labels are not note text: user-select:none keeps them out of copied text.
_LABEL_STYLE = (
    "font-size:0.7em;font-weight:700;margin-left:0.4em;vertical-align:middle;"
    "user-select:none;-webkit-user-select:none"
)
_LEGEND_STYLE = "margin-bottom:0.6em;display:flex;flex-wrap:wrap;gap:0.4em"
_KEY_STYLE = "font-size:0.8em;font-weight:700;padding:0.15em 0.5em;border-radius:0.35em"
# Legend keys for assertions: neutral, so that they read as marks, not as entity types.
_ASSERTION_KEY_STYLE = f"{_KEY_STYLE};background:#eeeeee;color:{_DARK_INK}"
# A label inside a struck-through mark: text decorations do not reach into inline blocks, so
# the label is not struck through with the note text.
_UNSTRUCK_LABEL_STYLE = ";display:inline-block"
# Section tags: neutral and small, outside the copied text like the labels; a header in bold.
_SECTION_STYLE = (
    "font-size:0.7em;font-weight:700;padding:0.1em 0.45em;margin-right:0.4em;"
    "border-radius:0.35em;background:#eeeeee;color:#555555;vertical-align:middle;"
    "user-select:none;-webkit-user-select:none"
)
_HEADER_STYLE = "font-weight:700"

# The labels AssertionModel writes, with the words labels and legend keys show (the order is
# the legend's). Present is the unmarked default.
_PRESENT = "present"
_ABSENT = "absent"
_POSSIBLE = "possible"
_ASSERTION_WORDS: Mapping[str, str] = {
    _ABSENT: "absent",
    _POSSIBLE: "possible",
    "hypothetical": "hypothetical",
    "conditional": "conditional",
    "associated_with_someone_else": "someone else",
}


@dataclass(frozen=True)
class _Chunk:
    index: int
    begin: int
    end: int
    entity: str
    confidence: float | None
    # None (no assertion), a known label in lower case, or an unknown label as given.
    assertion: str | None = None
    section: str | None = None
    # A resolver's code for the chunk, and the vocabulary and concept it names.
    code: str | None = None
    concept: str | None = None


@dataclass(frozen=True)
class _Section:
    index: int
    begin: int
    end: int
    name: str
    # The header's span (inclusive end), where the annotation gives it.
    header: tuple[int, int] | None


def render(
    text: str | None,
    chunks: Iterable[Any] | None,
    *,
    assertions: Iterable[Any] | None = None,
    sections: Iterable[Any] | None = None,
    codes: Iterable[Any] | None = None,
    colors: Mapping[str, str] | None = None,
    show_confidence: bool = True,
    show_sections: bool = True,
    legend: bool = True,
) -> str:
    """Return ``text`` as an HTML fragment with each chunk highlighted and labelled.

    ``chunks`` may hold :class:`sparkner.core.annotation.Annotation` objects (what
    ``LightPipeline.fullAnnotate(text)[0]["ner_chunk"]`` returns), ``pyspark.sql.Row``
    values of a chunk column, or dicts with ``begin``, ``end`` (inclusive), optional
    ``result`` and either ``metadata`` (with ``entity``, optional ``confidence``) or
    ``entity``. None items are skipped. The entity type is ``metadata["entity"]``, then
    an ``entity`` field, then ``"ENTITY"``.

    ``assertions`` may hold assertion annotations in the same forms (what
    ``fullAnnotate(text)[0]["assertion"]`` returns, or a row's ``assertion`` column), each with
    the label as ``result``. An annotation goes to the chunk whose index in ``chunks`` its
    ``metadata["chunk"]`` gives; one without ``metadata["chunk"]`` goes to the chunk at its
    own position (the n-th assertion to the n-th chunk, None items counting). None items and
    None results are skipped. A chunk's assertion is, in order of precedence: the one from
    ``assertions``, ``metadata["assertion"]``, an ``assertion`` field, else none (shown as
    present). Labels are case-insensitive: ``present`` looks like a chunk without one;
    ``absent`` is struck through in a dashed frame; ``possible`` is italic in a dotted frame;
    ``hypothetical``, ``conditional`` and ``associated_with_someone_else`` ("someone else"),
    and any other label (as given), are written in the label. Each ``<mark>`` with an
    assertion has ``data-assertion``, and the legend has a key for each label other than
    present among the chunks shown.

    A chunk's section is ``metadata["section"]``, then a ``section`` field, then (with
    ``sections``) the name of the last-starting section that holds its begin; each ``<mark>``
    with one has ``data-section`` and a ``title`` tooltip. ``sections`` may hold section
    annotations (what ``fullAnnotate(text)[0]["section"]`` returns, or a row's ``section``
    column) in the same forms: ``begin``, ``end`` (inclusive), the name as
    ``metadata["section"]`` (or ``result``) and optional ``metadata["header_begin"]`` and
    ``["header_end"]``; None items and nameless ones are skipped. With ``show_sections``
    (the default), a tag ``§ name`` (class ``sparkner-section``, outside the copied text) is
    shown where each section starts, with ``sections``, or else before the first shown chunk
    of each run of chunks in the same section; a header that no shown chunk overlaps is set
    in bold (class ``sparkner-header``). A tag that would fall inside an entity follows it.

    ``codes`` may hold a resolver's annotations (``ChunkResolverModel``'s ``entity`` column, or
    several resolvers' lists joined), each naming its chunk by ``metadata["chunk"]`` as
    assertions do, with the code as ``result`` and optional ``metadata["vocabulary"]`` and
    ``["resolved_text"]``: the code is written in the chunk's label and the concept in its
    tooltip (``data-code`` on the ``<mark>``). Where two name one chunk, the first given wins;
    None items and None results are skipped.

    Where chunks overlap, the one that begins first (the longest of those beginning at the
    same place, then the earliest given) is shown and the chunks overlapping it are left
    out, so that every character of the note appears exactly once.

    ``colors`` maps entity types (case-insensitive) to ``#rgb``, ``#rrggbb`` or a CSS colour
    name, over :data:`DEFAULT_COLORS`; other types get a fixed colour derived from their
    name. ``show_confidence`` adds ``metadata["confidence"]`` to the labels, and ``legend``
    lists the types shown with their colours.

    Raises ValueError for a chunk outside the text, a ``result`` that differs from the text
    at the chunk's offsets, an assertion that names no chunk (an index out of range, of a None
    chunk or not an integer), two assertions for one chunk, an assertion whose ``begin`` and
    ``end`` differ from its chunk's, a section or header outside the text, or a malformed
    colour. Messages give chunk, assertion and section indices, offsets and entity types,
    never note text.

    Example::

        html = render(
            "No chest pain; ECG ordered.",
            [{"begin": 3, "end": 12, "metadata": {"entity": "PROBLEM", "confidence": "0.97"}},
             {"begin": 15, "end": 17, "entity": "TEST"}],
            assertions=[{"begin": 3, "end": 12, "result": "absent", "metadata": {"chunk": "0"}}],
        )
        displayHTML(html)
    """
    text = "" if text is None else text
    if not isinstance(text, str):
        raise TypeError(f"text must be a str or None, not {type(text).__name__}")
    palette = _palette(colors)
    chunks = list(chunks or ())
    read = _with_assertions(_read_chunks(text, chunks), len(chunks), assertions)
    read = _with_codes(read, len(chunks), codes)
    spans = _read_sections(text, sections)
    if spans:
        read = [
            chunk if chunk.section is not None else replace(chunk, section=_holder(spans, chunk))
            for chunk in read
        ]
    shown = _drop_overlaps(read)

    parts = [f'<div class="sparkner-display" style="{_BOX_STYLE}">']
    types = sorted({chunk.entity for chunk in shown})
    if legend and types:
        parts.append(f'<div class="sparkner-legend" style="{_LEGEND_STYLE}">')
        for entity in types:
            parts.append(
                f'<span class="sparkner-key" style="{_KEY_STYLE};{_colors_style(palette, entity)}"'
                f">{escape(entity)}</span>"
            )
        for assertion in _legend_assertions(shown):
            parts.append(
                f'<span class="sparkner-key" data-assertion="{escape(assertion)}" '
                f'style="{_ASSERTION_KEY_STYLE}{_assertion_style(assertion, _DARK_INK)}">'
                f"{escape(_assertion_word(assertion))}</span>"
            )
        parts.append("</div>")
    parts.append(f'<div class="sparkner-text" style="{_TEXT_STYLE}">')
    position = 0
    for at, item in _layout(shown, spans, sections is not None, show_sections):
        parts.append(escape(text[position:at]))
        position = at
        if isinstance(item, str):
            parts.append(
                f'<span class="sparkner-section" data-section="{escape(item)}" '
                f'style="{_SECTION_STYLE}">&#167; {escape(item)}</span>'
            )
            continue
        if isinstance(item, _Section):
            assert item.header is not None  # _layout gives headers only
            begin, end = item.header
            parts.append(
                f'<span class="sparkner-header" data-section="{escape(item.name)}" '
                f'style="{_HEADER_STYLE}">{escape(text[begin : end + 1])}</span>'
            )
            position = end + 1
            continue
        chunk = item
        label = chunk.entity
        if show_confidence and chunk.confidence is not None:
            label += f" {chunk.confidence:.2f}"
        label = escape(label)
        data = mark_style = label_style = ""
        if chunk.assertion is not None:
            data = f' data-assertion="{escape(chunk.assertion)}"'
            ink = _ink_for(_background(palette, chunk.entity))
            mark_style = _assertion_style(chunk.assertion, ink)
            if chunk.assertion == _ABSENT:
                label_style = _UNSTRUCK_LABEL_STYLE
            if chunk.assertion != _PRESENT:
                label += f" &#183; {escape(_assertion_word(chunk.assertion))}"
        titles = []
        if chunk.section is not None:
            section = escape(chunk.section)
            data += f' data-section="{section}"'
            titles.append(f"section: {section}")
        if chunk.code is not None:
            label += f" &#183; {escape(chunk.code)}"
            data += f' data-code="{escape(chunk.code)}"'
            titles.append(escape(chunk.concept or chunk.code))
        if titles:
            data += f' title="{"; ".join(titles)}"'
        parts.append(
            f'<mark class="sparkner-entity" data-entity="{escape(chunk.entity)}"{data} '
            f'style="{_MARK_STYLE};{_colors_style(palette, chunk.entity)}{mark_style}">'
            f"{escape(text[chunk.begin : chunk.end + 1])}"
            f'<span class="sparkner-label" style="{_LABEL_STYLE}{label_style}">{label}</span>'
            "</mark>"
        )
        position = chunk.end + 1
    parts.append(escape(text[position:]))
    parts.append("</div></div>")
    return "".join(parts)


def color_of(entity: str, colors: Mapping[str, str] | None = None) -> str:
    """The background colour :func:`render` gives ``entity``."""
    return _background(_palette(colors), entity)


# Keys and values of any type: the colours come from the user and are checked here.
def _palette(colors: Mapping[Any, object] | None) -> dict[str, str]:
    palette = dict(DEFAULT_COLORS)
    for entity, color in (colors or {}).items():
        if not isinstance(color, str) or not _COLOR_PATTERN.fullmatch(color):
            raise ValueError(
                f"colour for entity type {entity!r} must be #rgb, #rrggbb or a CSS colour name"
            )
        palette[str(entity).upper()] = color
    return palette


def _background(palette: Mapping[str, str], entity: str) -> str:
    return palette.get(entity.upper()) or _hashed_color(entity)


def _hashed_color(entity: str) -> str:
    # A stable digest, not hash(): Python salts str hashes per process, and a type should
    # keep its colour across runs and notebooks.
    digest = hashlib.sha256(entity.upper().encode("utf-8")).digest()
    return _OTHER_COLORS[int.from_bytes(digest[:4], "big") % len(_OTHER_COLORS)]


def _colors_style(palette: Mapping[str, str], entity: str) -> str:
    background = _background(palette, entity)
    return escape(f"background:{background};color:{_ink_for(background)}")


def _ink_for(background: str) -> str:
    """Dark text on light backgrounds, white on dark hex colours (names get dark text)."""
    if not background.startswith("#"):
        return _DARK_INK
    digits = background[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    red, green, blue = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    # Relative luminance as WCAG defines it; below ~0.18 white text has the better contrast.
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return _LIGHT_INK if luminance < 0.18 else _DARK_INK


def _field(chunk: Any, name: str) -> Any:
    """A field of a dict, an Annotation or a pyspark Row (missing fields give None)."""
    if isinstance(chunk, Mapping):
        return chunk.get(name)
    return getattr(chunk, name, None)


def _read_chunks(text: str, chunks: Iterable[Any] | None) -> list[_Chunk]:
    read = []
    for index, chunk in enumerate(chunks or ()):
        if chunk is None:
            continue
        begin = _offset(chunk, "begin", index)
        end = _offset(chunk, "end", index)
        # Offsets and the length only: the note and chunk text are patient data and must not
        # reach exception messages, logs or tracebacks.
        if not 0 <= begin <= end < len(text):
            raise ValueError(
                f"chunk {index} (begin={begin}, end={end}) lies outside the text "
                f"(length {len(text)}); end is inclusive"
            )
        result = _field(chunk, "result")
        if result is not None and result != text[begin : end + 1]:
            raise ValueError(
                f"chunk {index} (begin={begin}, end={end}): its result differs from the text "
                "at those offsets"
            )
        metadata = _metadata(chunk)
        entity = metadata.get("entity") or _field(chunk, "entity") or "ENTITY"
        assertion = _label(metadata.get("assertion")) or _label(_field(chunk, "assertion"))
        section = _name(metadata.get("section")) or _name(_field(chunk, "section"))
        read.append(
            _Chunk(index, begin, end, str(entity), _confidence(metadata), assertion, section)
        )
    return read


def _name(value: Any) -> str | None:
    """A section name as given, None when missing or blank."""
    if value is None:
        return None
    name = str(value).strip()
    return name or None


def _read_sections(text: str, sections: Iterable[Any] | None) -> list[_Section]:
    """The named sections, checked to lie in the text, in text order."""
    read = []
    for index, section in enumerate(sections or ()):
        if section is None:
            continue
        metadata = _metadata(section)
        name = _name(metadata.get("section")) or _name(_field(section, "result"))
        if name is None:
            continue
        begin = _offset(section, "begin", index, "section")
        end = _offset(section, "end", index, "section")
        # Offsets only in the messages, never note text.
        if not 0 <= begin <= end < len(text):
            raise ValueError(
                f"section {index} (begin={begin}, end={end}) lies outside the text "
                f"(length {len(text)}); end is inclusive"
            )
        header = None
        header_begin, header_end = metadata.get("header_begin"), metadata.get("header_end")
        if header_begin is not None or header_end is not None:
            first, last = _metadata_int(header_begin), _metadata_int(header_end)
            if first is None or last is None or not 0 <= first <= last < len(text):
                raise ValueError(
                    f"section {index}: metadata header_begin and header_end must be integer "
                    f"offsets into the text (length {len(text)}), end inclusive"
                )
            header = (first, last)
        read.append(_Section(index, begin, end, name, header))
    return sorted(read, key=lambda s: (s.begin, s.index))


def _metadata_int(value: Any) -> int | None:
    """An integer metadata value (a decimal string, as annotators write them, or an int)."""
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        return int(value)
    return _integer(value)


def _holder(sections: list[_Section], chunk: _Chunk) -> str | None:
    """The name of the last-starting section that holds the chunk's begin, if any."""
    holding = [s for s in sections if s.begin <= chunk.begin <= s.end]
    return holding[-1].name if holding else None


def _layout(
    shown: list[_Chunk], sections: list[_Section], from_sections: bool, show_sections: bool
) -> list[tuple[int, _Chunk | _Section | str]]:
    """What the text holds, in order: each shown chunk at its begin and, with
    ``show_sections``, each header that no shown chunk overlaps at its begin (as its section)
    and each section tag (a name) where its section starts, or (``from_sections`` false)
    before the first chunk of each run of chunks in one section. A tag inside a chunk or
    header moves to just after it."""
    spans: list[tuple[int, int, _Chunk | _Section]] = [(c.begin, c.end, c) for c in shown]
    tags: list[tuple[int, str]] = []
    if show_sections and from_sections:
        for section in sections:
            header = section.header
            # Earlier headers are in spans too: headers never overlap either.
            if header is not None and all(
                header[1] < begin or end < header[0] for begin, end, _ in spans
            ):
                spans.append((header[0], header[1], section))
            tags.append((section.begin, section.name))
    elif show_sections:
        previous = None
        for chunk in shown:
            if chunk.section is not None and chunk.section != previous:
                tags.append((chunk.begin, chunk.section))
            previous = chunk.section
    spans.sort(key=lambda span: span[0])
    placed: list[tuple[int, int, _Chunk | _Section | str]] = []
    for at, name in tags:
        for begin, end, _ in spans:
            if begin < at <= end:
                at = end + 1
        placed.append((at, 0, name))
    placed += [(begin, 1, item) for begin, _, item in spans]
    placed.sort(key=lambda entry: (entry[0], entry[1]))
    return [(at, item) for at, _, item in placed]


def _metadata(item: Any) -> Mapping[str, Any]:
    metadata = _field(item, "metadata") or {}
    # Arrow's to_pylist gives a map column as a list of (key, value) pairs.
    return metadata if isinstance(metadata, Mapping) else dict(metadata)


def _label(value: Any) -> str | None:
    """An assertion label: known ones in lower case, others as given; None when empty."""
    if value is None:
        return None
    label = str(value).strip()
    if not label:
        return None
    known = label.lower()
    return known if known == _PRESENT or known in _ASSERTION_WORDS else label


def _with_assertions(
    read: list[_Chunk], count: int, assertions: Iterable[Any] | None
) -> list[_Chunk]:
    """``read`` with the labels of ``assertions`` (``count`` chunks were given, Nones too)."""
    by_index = {chunk.index: chunk for chunk in read}
    claimed: dict[int, int] = {}
    for position, assertion in enumerate(assertions or ()):
        if assertion is None:
            continue
        # Indices and offsets only in the messages, never note or chunk text.
        target = _chunk_index(assertion, position)
        if not 0 <= target < count:
            raise ValueError(
                f"assertion {position} names chunk {target}, but there are {count} chunks"
            )
        chunk = by_index.get(target)
        if chunk is None:
            raise ValueError(f"assertion {position} names chunk {target}, which is None")
        if target in claimed:
            raise ValueError(
                f"assertions {claimed[target]} and {position} both name chunk {target}"
            )
        claimed[target] = position
        begin, end = _integer(_field(assertion, "begin")), _integer(_field(assertion, "end"))
        if begin is not None and end is not None and (begin, end) != (chunk.begin, chunk.end):
            raise ValueError(
                f"assertion {position} (begin={begin}, end={end}) names chunk {target} "
                f"(begin={chunk.begin}, end={chunk.end}): their offsets differ"
            )
        label = _label(_field(assertion, "result"))
        if label is not None:
            by_index[target] = replace(chunk, assertion=label)
    return [by_index[chunk.index] for chunk in read]


def _with_codes(read: list[_Chunk], count: int, codes: Iterable[Any] | None) -> list[_Chunk]:
    """``read`` with the first code of ``codes`` that names each chunk."""
    by_index = {chunk.index: chunk for chunk in read}
    coded: set[int] = set()
    for position, code in enumerate(codes or ()):
        if code is None or _label(_field(code, "result")) is None:
            continue
        target = _chunk_index(code, position, "code")
        chunk = by_index.get(target)
        if not 0 <= target < count or chunk is None:
            raise ValueError(f"code {position} names chunk {target}, which is not shown")
        if target in coded:
            continue
        coded.add(target)
        metadata = _metadata(code)
        vocabulary, name = metadata.get("vocabulary"), metadata.get("resolved_text")
        concept = " ".join(str(v) for v in (vocabulary, _field(code, "result"), name) if v)
        by_index[target] = replace(chunk, code=str(_field(code, "result")), concept=concept)
    return [by_index[chunk.index] for chunk in read]


def _chunk_index(assertion: Any, position: int, kind: str = "assertion") -> int:
    """The chunk an assertion (or code) names: ``metadata["chunk"]``, else its position."""
    value = _metadata(assertion).get("chunk")
    if value is None:
        return position
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        return int(value)
    index = _integer(value)
    if index is None:
        # Not the value itself in the message: it could be anything.
        raise ValueError(f"{kind} {position}: metadata chunk must be a chunk index")
    return index


def _integer(value: Any) -> int | None:
    """An int or numpy integer (not a bool, float or string) as an int, else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _assertion_word(assertion: str) -> str:
    return _ASSERTION_WORDS.get(assertion, assertion)


def _assertion_style(assertion: str, ink: str) -> str:
    """Declarations (each after a ';') that mark an assertion on a box whose text is ``ink``."""
    if assertion == _ABSENT:
        return (
            f";text-decoration:line-through;text-decoration-thickness:0.1em;border:2px dashed {ink}"
        )
    if assertion == _POSSIBLE:
        return f";font-style:italic;border:2px dotted {ink}"
    return ""


def _legend_assertions(shown: list[_Chunk]) -> list[str]:
    """The labels other than present among ``shown``: known ones in order, then the rest."""
    labels = {chunk.assertion for chunk in shown if chunk.assertion is not None} - {_PRESENT}
    known = [label for label in _ASSERTION_WORDS if label in labels]
    return known + sorted(labels - set(known))


def _offset(chunk: Any, name: str, index: int, kind: str = "chunk") -> int:
    value = _field(chunk, name)
    try:
        # operator.index takes ints and numpy integers but refuses floats and strings.
        return operator.index(value)
    except TypeError:
        raise ValueError(
            f"{kind} {index}: {name} must be an integer, not {type(value).__name__}"
        ) from None


def _confidence(metadata: Mapping[str, Any]) -> float | None:
    try:
        value = float(metadata["confidence"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _drop_overlaps(chunks: list[_Chunk]) -> list[_Chunk]:
    """Chunks in text order, leaving out each one that overlaps a chunk already kept."""
    kept: list[_Chunk] = []
    for chunk in sorted(chunks, key=lambda c: (c.begin, -c.end, c.index)):
        if kept and chunk.begin <= kept[-1].end:
            continue
        kept.append(chunk)
    return kept
