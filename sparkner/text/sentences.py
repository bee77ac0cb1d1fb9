"""Sentence rules: sentence spans of a clinical note, and of a batch of documents."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import DOCUMENT, AnnotationBatch, build_annotations
from sparkner.text.abbreviations import NON_FINAL_ABBREVIATIONS

BOUND_STRATEGIES = ("none", "append", "prepend")


@dataclass(frozen=True)
class SentenceRules:
    """The settings of sentence detection (hashable, so compiled rules can be cached)."""

    use_abbreviations: bool = True
    abbreviations: tuple[str, ...] = NON_FINAL_ABBREVIATIONS
    detect_lists: bool = True
    detect_headers: bool = True
    custom_bounds: tuple[str, ...] = ()
    custom_bounds_strategy: str = "none"
    use_custom_bounds_only: bool = False
    split_length: int = 0
    min_length: int = 0
    max_length: int = 0


# A blank line, a form feed, or a Unicode line / paragraph separator always ends a sentence.
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n|[\f\u2028\u2029\x1c\x1d\x1e\x85]")
_LINE_BREAK = re.compile(r"\r?\n|\r")
# Sentence-final punctuation, with closing quotes or brackets that belong to it.
_TERMINAL = re.compile(r"[.!?]+[\"'”’)\]]*")
# An ALL-CAPS section header ending in a colon: "HISTORY OF PRESENT ILLNESS:", "HEENT:".
_HEADER = re.compile(
    r"(?:(?<=^)|(?<=[\s.,;:]))([A-Z][A-Z0-9&/()'\-]*(?:[ \t]+[A-Z0-9&/()'\-]+)*)[ \t]*:"
)
# A run of ALL-CAPS words as _HEADER's phrase; a header when ``[ \t]*:`` follows it.
_CAPS_RUN = re.compile(r"(?:(?<=^)|(?<=[\s.,;:]))[A-Z][A-Z0-9&/()'\-]*(?:[ \t]+[A-Z0-9&/()'\-]+)*")
_COLON = re.compile(r"[ \t]*:")
# MTSamples-style header without a colon, glued between commas: ".,PHYSICAL EXAMINATION,VITAL".
_HEADER_NO_COLON = re.compile(r"(?:(?<=^)|(?<=[.,]))([A-Z][A-Z0-9&/()'\- ]{4,}[A-Z0-9)])(?=,\S)")
# What starts a line that begins a new sentence: a list marker or a bullet.
_LIST_MARKER = re.compile(r"[ \t]*(?:(?:\d{1,3}|[a-zA-Z])[.)][ \t]|[-*•▪●◦][ \t])")
# A numbered item after a colon or semicolon: "Diagnoses: 1. Asthma. 2. ...".
_INLINE_LIST = re.compile(
    r"(?<=[:;])[ \t]+(?=(?:\d{1,3}|[a-z])[.)][ \t]+\S)|(?<=\S)[ \t]+(?=[•▪●◦][ \t])"
)
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_MARKER_WORD = re.compile(r"\d{1,3}|[A-Za-z]")
_OPENERS = "\"'“‘([{•*-"
# Besides any Unicode whitespace, characters that separate sections rather than belong to a
# sentence ("Postpartum.,PROCEDURE").
_SEPARATORS = ",;"


def _is_separator(char: str) -> bool:
    # All of Unicode's whitespace (ideographic and em spaces too), so no sentence starts or
    # ends with whitespace of any kind.
    return char.isspace() or char in _SEPARATORS


@lru_cache(maxsize=32)
def _compiled_bounds(bounds: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{b})" for b in bounds)) if bounds else None


def split_sentences(text: str, rules: SentenceRules = SentenceRules()) -> list[tuple[int, int]]:
    """Sentence spans of one text as ``(begin, end)`` with ``end`` exclusive.

    Spans never start or end with whitespace and never cross a boundary; what lies between
    sentences (whitespace, section-separating commas) belongs to none.
    """
    separators = _separator_spans(text, rules)
    spans: list[tuple[int, int]] = []
    start = 0
    for sep_begin, sep_end in [*separators, (len(text), len(text))]:
        if sep_begin >= start:
            spans.extend(_trimmed_pieces(text, start, sep_begin, rules.split_length))
        start = max(start, sep_end)
    return [
        (b, e)
        for b, e in spans
        if e - b >= rules.min_length and (rules.max_length <= 0 or e - b <= rules.max_length)
    ]


def _separator_spans(text: str, rules: SentenceRules) -> list[tuple[int, int]]:
    """Sorted ``(begin, end)`` spans that separate sentences (zero-width for a plain cut)."""
    cuts: list[tuple[int, int]] = []
    bounds = _compiled_bounds(rules.custom_bounds)
    if bounds is not None:
        for m in bounds.finditer(text):
            if rules.custom_bounds_strategy == "append":
                cuts.append((m.end(), m.end()))
            elif rules.custom_bounds_strategy == "prepend":
                cuts.append((m.start(), m.start()))
            else:
                cuts.append(m.span())
    if rules.use_custom_bounds_only:
        return sorted(cuts)

    cuts.extend(m.span() for m in _PARAGRAPH.finditer(text))
    line_start = 0
    for m in _LINE_BREAK.finditer(text):
        if _line_break_ends(text, line_start, m, rules):
            cuts.append(m.span())
        line_start = m.end()
    if rules.detect_headers:
        for begin, end, phrase in _colon_headers(text):
            if _is_header(phrase):
                cuts.append((begin, begin))
                cuts.append((end, end))
        for m in _HEADER_NO_COLON.finditer(text):
            if _is_header(m.group(1)):
                cuts.append((m.start(1), m.start(1)))
                cuts.append((m.end(), m.end()))
    if rules.detect_lists:
        cuts.extend(m.span() for m in _INLINE_LIST.finditer(text))
    cuts.sort()

    # Terminal punctuation is decided in order, since "2." is a list marker only right
    # after a boundary.
    ends = [e for _, e in cuts]
    last_cut = 0
    terminal_cuts: list[tuple[int, int]] = []
    for m in _TERMINAL.finditer(text):
        i = bisect_right(ends, m.start())
        if i:
            last_cut = max(last_cut, ends[i - 1])
        if _terminal_ends(text, m, last_cut, rules):
            terminal_cuts.append((m.end(), m.end()))
            last_cut = m.end()
    return sorted(cuts + terminal_cuts)


def _is_header(phrase: str) -> bool:
    letters = sum(c.isalpha() for c in phrase)
    return letters >= 2 and not any(c.islower() for c in phrase)


def _colon_headers(text: str) -> Iterator[tuple[int, int, str]]:
    """``(begin, end, phrase)`` of each match of :data:`_HEADER`, in linear time.

    ``_HEADER.finditer`` retries at every word of a long ALL-CAPS run that no colon ends,
    which is quadratic (120 kB of capitals took 80 s); a run is matched once here and then
    checked for the colon. A shorter phrase never matches where the whole run does not.
    """
    for run in _CAPS_RUN.finditer(text):
        colon = _COLON.match(text, run.end())
        if colon:
            yield run.start(), colon.end(), run.group()


def _line_break_ends(text: str, line_start: int, m: re.Match[str], rules: SentenceRules) -> bool:
    """Whether a single line break ends a sentence (a wrapped line does not).

    ``line_start`` is where the line before it starts (passed in: searching back for it
    each time is quadratic in a text of many lines). The list and header rules apply only
    when switched on, as the terminal-punctuation rules do.
    """
    previous = text[line_start : m.start()].rstrip()
    if not previous:
        return True
    following = text[m.end() : m.end() + 200]
    if previous[-1] in ".!?:;" and not _open_abbreviation_ends(previous, following, rules):
        return True
    if rules.detect_headers and _is_header(previous):
        return True
    if rules.detect_lists and _LIST_MARKER.match(following):
        return True
    header = _HEADER.match(following.lstrip(" \t")) if rules.detect_headers else None
    return bool(header and _is_header(header.group(1)))


def _open_abbreviation_ends(line: str, following: str, rules: SentenceRules) -> bool:
    """Whether ``line`` ends in an abbreviation that leaves the sentence open.

    The line-break twin of the rules in :func:`_terminal_ends`: a wrapped "seen by Dr.\nSmith"
    or "81 mg p.o.\ndaily" goes on across the line break.
    """
    if not line.endswith("."):
        return False
    words = line[:-1].split()
    word = words[-1].lstrip("\"'“‘([{") if words else ""
    if rules.use_abbreviations and word.lower() in rules.abbreviations:
        return True
    return bool(_DOTTED.fullmatch(word)) and following.lstrip()[:1].islower()


def _terminal_ends(text: str, m: re.Match[str], last_cut: int, rules: SentenceRules) -> bool:
    """Whether the punctuation ``m`` ends a sentence, by what precedes and follows it."""
    after = m.end()
    n = len(text)
    if after < n and not (text[after].isspace() or text[after] == ","):
        return False  # "2.5", "e.g.x", "St.Louis": inside a token
    j = after
    while j < n and (text[j].isspace() or text[j] == ","):
        j += 1
    if j == n:
        return True
    following = text[j]
    if not (following.isupper() or following.isdigit() or following in _OPENERS):
        return False  # a lower-case continuation: "p.o. daily", "approx. two"
    if not m.group().startswith("."):
        return True
    # The word starts after the last cut or a separator: MTSamples glues list items to what
    # precedes them ("DIAGNOSES:,1.  Deformity.,2.  Excess"), and "1" must still be a marker,
    # while a comma inside a number ("150,000.") is part of the word.
    word_start = m.start()
    while word_start > last_cut and not (
        _is_separator(text[word_start - 1]) and not _in_number(text, word_start - 1)
    ):
        word_start -= 1
    word = text[word_start : m.start()].lstrip("\"'“‘([{")
    if rules.use_abbreviations and word.lower() in rules.abbreviations:
        return False  # "Dr. Smith", "e.g. CT"
    if rules.detect_lists and _MARKER_WORD.fullmatch(word):
        only_space_before = all(_is_separator(c) for c in text[last_cut:word_start])
        if only_space_before:
            return False  # "2." opening a numbered item
    # "b.i.d. Follow-up ..." ends a sentence, "p.o. 5 days" does not.
    return not (_DOTTED.fullmatch(word) and not following.isupper())


def _in_number(text: str, i: int) -> bool:
    """Whether ``text[i]`` has a digit on both sides, as the comma in "1,000"."""
    return 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def _trimmed_pieces(text: str, begin: int, end: int, split_length: int) -> list[tuple[int, int]]:
    """The stretch ``[begin, end)`` trimmed of separators, cut into pieces of ``split_length``."""
    while begin < end and _is_separator(text[begin]):
        begin += 1
    while end > begin and _is_separator(text[end - 1]):
        end -= 1
    if begin >= end:
        return []
    if split_length <= 0 or end - begin <= split_length:
        return [(begin, end)]
    pieces = []
    while end - begin > split_length:
        limit = begin + split_length
        cut = limit
        while cut > begin and not text[cut].isspace():
            cut -= 1
        if cut == begin:  # one long "word": cut it hard
            cut = limit
        pieces.append((begin, cut))
        begin = cut
        while begin < end and text[begin].isspace():
            begin += 1
        while pieces[-1][1] > pieces[-1][0] and text[pieces[-1][1] - 1].isspace():
            pieces[-1] = (pieces[-1][0], pieces[-1][1] - 1)
    if begin < end:
        pieces.append((begin, end))
    return pieces


def detect_sentences(documents: pa.Array, rules: SentenceRules) -> pa.Array:
    """Sentences of every document in a batch; metadata ``sentence`` counts within the row."""
    docs = AnnotationBatch(documents)
    texts = docs.result
    begins: list[int] = []
    ends: list[int] = []
    results: list[str] = []
    counts = np.zeros(docs.num_rows, dtype=np.int64)
    doc_rows = docs.row_of()
    for text, offset, row in zip(texts, docs.begin.tolist(), doc_rows.tolist(), strict=True):
        spans = split_sentences(text, rules)
        counts[row] += len(spans)
        for b, e in spans:
            begins.append(offset + b)
            ends.append(offset + e - 1)
            results.append(text[b:e])
    row_offsets = np.concatenate([[0], np.cumsum(counts)])
    # Sentence numbers restart at 0 in each row.
    index = np.arange(len(begins)) - np.repeat(row_offsets[:-1], counts)
    return build_annotations(
        DOCUMENT, row_offsets, begins, ends, results, metadata={"sentence": index}
    )
