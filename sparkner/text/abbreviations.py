"""Abbreviations that end with a period but do not end a sentence (lower case, no period)."""

from __future__ import annotations

# Titles, Latin and reference abbreviations and month names: a following capital or digit
# ("Dr. Smith", "e.g. CT", "vs. 5 mg", "Jan. 5") does not start a new sentence.
# Dotted forms such as "b.i.d.", "p.o." and "q.d." are recognized by their shape instead.
NON_FINAL_ABBREVIATIONS: tuple[str, ...] = (
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "sr",
    "jr",
    "st",
    "vs",
    "v",
    "e.g",
    "i.e",
    "approx",
    "appt",
    "dept",
    "fig",
    "figs",
    "ca",
    "cf",
    "al",
    "inc",
    "ltd",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
)

# The tokenizer keeps these together with their period; "etc." may also end a sentence.
TOKEN_ABBREVIATIONS: tuple[str, ...] = (*NON_FINAL_ABBREVIATIONS, "etc", "no", "nos", "pt")
