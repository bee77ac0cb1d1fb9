"""Java regular expressions, as Spark NLP users write them, for Python's ``re``.

Spark NLP's patterns (tokenizer infixes, RegexMatcher rules, Normalizer clean-up patterns)
are Java's. Most of Java's syntax is Python's too; what is not is translated here:

- Unicode classes ``\\p{L}``, ``\\pL``, ``\\p{Lu}``, ``\\p{IsAlphabetic}``, ``\\p{N}``,
  ``\\p{Punct}``... and their negations ``\\P{...}``: as explicit character ranges (inside a
  bracket class too; a negated one inside a bracket class is refused, as ``re`` cannot
  subtract classes);
- ``\\z`` (the very end of the input) as ``\\Z``; ``\\Z`` (before a final line break) as
  ``(?=\\n?\\Z)``;
- ``\\Q...\\E`` quoting as escaped text.

Anything ``re`` still refuses is reported with the pattern and the reason.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

# Java property names -> the Unicode general categories they cover (a one-letter name covers
# every category starting with it).
_ALIASES = {
    "Alpha": ("L",),
    "IsAlphabetic": ("L", "Nl"),
    "IsLetter": ("L",),
    "Letter": ("L",),
    "IsDigit": ("Nd",),
    "Digit": ("Nd",),
    "Punct": ("P",),
    "IsPunctuation": ("P",),
    "Upper": ("Lu",),
    "IsUppercase": ("Lu",),
    "Lower": ("Ll",),
    "IsLowercase": ("Ll",),
    "Alnum": ("L", "Nd"),
    "IsWhite_Space": ("Zs", "Zl", "Zp"),
    "Space": ("Zs", "Zl", "Zp"),
}


class JavaRegexError(ValueError):
    """A Java pattern that cannot be used."""


@lru_cache(maxsize=1)
def _categories() -> dict[str, list[list[int]]]:
    """Code point ranges per general category (two letters), computed once."""
    ranges: dict[str, list[list[int]]] = {}
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        spans = ranges.setdefault(category, [])
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return ranges


@lru_cache(maxsize=64)
def class_body(name: str) -> str:
    """The body of a bracket class for the Java property ``name`` (``L``, ``Lu``, ``Punct``)."""
    wanted = _ALIASES.get(name) or (name.removeprefix("Is"),)
    spans: list[list[int]] = []
    for category, found in _categories().items():
        if any(category.startswith(w) for w in wanted):
            spans.extend(found)
    if not spans:
        raise JavaRegexError(f"unknown Unicode class \\p{{{name}}}")
    spans.sort()
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and merged[-1][1] >= lo - 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in merged
    )


def translate(pattern: str) -> str:
    """``pattern`` (Java syntax) as a Python pattern with the same matches."""
    out: list[str] = []
    i, depth, n = 0, 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in "pP":
                if i + 2 < n and pattern[i + 2] == "{":
                    close = pattern.find("}", i + 3)
                    if close < 0:
                        raise JavaRegexError(f"{pattern!r}: unclosed \\{nxt}{{")
                    name, end = pattern[i + 3 : close], close + 1
                else:
                    name, end = pattern[i + 2 : i + 3], i + 3
                body = class_body(name)
                if nxt == "P" and depth:
                    raise JavaRegexError(
                        f"{pattern!r}: a negated class \\P{{{name}}} inside [...] cannot be "
                        f"translated; write [^...] instead"
                    )
                out.append(body if depth else (f"[^{body}]" if nxt == "P" else f"[{body}]"))
                i = end
                continue
            if nxt == "Q":
                close = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 : close if close >= 0 else n]
                out.append("".join(re.escape(c) for c in literal))
                i = close + 2 if close >= 0 else n
                continue
            if nxt == "z" and not depth:
                out.append(r"\Z")
            elif nxt == "Z" and not depth:
                out.append(r"(?=\n?\Z)")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[":
            # A class nested in a class is a union in Java: its brackets are dropped.
            if depth and i + 1 < n and pattern[i + 1] == "^":
                raise JavaRegexError(f"{pattern!r}: a negated class inside [...] is not supported")
            out.append("" if depth else ch)
            depth += 1
            if depth == 1 and i + 1 < n and pattern[i + 1] == "^":
                out.append("^")
                i += 1
            if i + 1 < n and pattern[i + 1] == "]":  # a leading "]" is a literal in Java
                out.append("\\]")
                i += 1
        elif ch == "]" and depth:
            depth -= 1
            out.append(ch if not depth else "")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def compile_java(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """:func:`translate`, compiled; the error names the pattern and the reason."""
    try:
        return re.compile(translate(pattern), flags)
    except re.error as exc:
        raise JavaRegexError(f"{pattern!r} is not a usable regular expression ({exc})") from None


def java_regex_problem(values: list[str] | tuple[str, ...] | str) -> str | None:
    """A param check: what is wrong with the patterns (None when they all compile)."""
    for value in [values] if isinstance(values, str) else values:
        try:
            compile_java(value)
        except JavaRegexError as exc:
            return f"holds {exc}"
    return None
