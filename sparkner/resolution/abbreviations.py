"""Abbreviations defined in a note: "chronic obstructive pulmonary disease (COPD)" makes a
later "COPD" read as its long form.

The algorithm is Schwartz & Hearst's (PSB 2003): a short form in parentheses after its long
form (or, less often, the other way round), the long form being the shortest run of words
before the parenthesis whose letters, read backwards, hold the short form's letters in order,
its first letter starting a word.
"""

from __future__ import annotations

import re

_PARENTHESIS = re.compile(r"\(([^()]{1,60})\)")
_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f\u0370-\u03ff]+(?:[-'][0-9A-Za-z]+)*")
# A long form never reaches over these.
_CLAUSE_END = re.compile(r"[.;:!?\[\]()]\s")


def _is_short_form(candidate: str) -> bool:
    words = candidate.split()
    return (
        0 < len(words) <= 2
        and 2 <= len(candidate) <= 10
        and candidate[0].isalnum()
        and any(c.isalpha() for c in candidate)
    )


def best_long_form(short: str, text_before: str) -> str | None:
    """The long form of ``short`` at the end of ``text_before``, or None (Schwartz & Hearst's
    ``findBestLongForm``)."""
    s, position = len(short) - 1, len(text_before) - 1
    while s >= 0:
        wanted = short[s].lower()
        if not wanted.isalnum():
            s -= 1
            continue
        while position >= 0 and (
            text_before[position].lower() != wanted
            or (s == 0 and position > 0 and text_before[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
        s -= 1
    start = text_before.rfind(" ", 0, position + 1) + 1
    long_form = text_before[start:].strip()
    return long_form or None


def _accepted(short: str, long_form: str) -> bool:
    words = long_form.split()
    limit = min(len(short) + 5, len(short) * 2)
    return (
        len(long_form) > len(short)
        and len(words) <= limit
        and short.lower() not in {w.lower() for w in words}
    )


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form -> long form of every abbreviation ``text`` defines (the first definition
    of a short form wins)."""
    found: dict[str, str] = {}
    for match in _PARENTHESIS.finditer(text):
        inner = match.group(1).strip()
        before = text[: match.start()]
        clause_ends = list(_CLAUSE_END.finditer(before))
        if clause_ends:
            before = before[clause_ends[-1].end() :]
        before = before.rstrip()
        if _is_short_form(inner) and inner not in found:
            window = _last_words(before, min(len(inner) + 5, len(inner) * 2))
            long_form = best_long_form(inner, window)
            if long_form and _accepted(inner, long_form):
                found[inner] = long_form
            continue
        # "COPD (chronic obstructive pulmonary disease)": the short form before.
        words = _WORD.findall(before)
        if words and ";" not in inner and "," not in inner:
            short = words[-1].strip(",;:")
            if _is_short_form(short) and short not in found and len(inner.split()) > 1:
                long_form = best_long_form(short, inner)
                if long_form and _accepted(short, long_form) and long_form == inner:
                    found[short] = long_form
    return found


def _last_words(text: str, count: int) -> str:
    words = _WORD.findall(text)
    return " ".join(words[-count:])


def expand(mention: str, abbreviations: dict[str, str]) -> str:
    """``mention`` with every short form of ``abbreviations`` in it (a whole word, same
    case) replaced by its long form; ``mention`` itself if it holds none."""
    if not abbreviations:
        return mention
    stripped = mention.strip()
    if stripped in abbreviations:
        return abbreviations[stripped]
    pieces, last, changed = [], 0, False
    for token in _TOKEN.finditer(mention):
        word = token.group(0)
        long_form = abbreviations.get(word) or (
            abbreviations.get(word[:-1]) if word.endswith("s") else None
        )
        if long_form is not None:
            pieces += [mention[last : token.start()], long_form]
            last, changed = token.end(), True
    if not changed:
        return mention
    pieces.append(mention[last:])
    return "".join(pieces)
