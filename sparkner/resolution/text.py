"""The normal form of mentions and aliases, their tokens and their character n-grams.

Normalising folds case, accents and British spellings ("Tumour", "anaemia", "oedema" read as
"tumor", "anemia", "edema"), turns every other character into a space and squeezes spaces.
N-grams are taken per word, each word padded with a space on both sides, so a word's n-grams
do not depend on its neighbours: "cancer of the breast" and "breast cancer" share all the
n-grams of "breast" and "cancer".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_NOT_WORD = re.compile(r"[^0-9a-z\u00c0-\u024f\u0370-\u03ff]+")
# British to American spellings, on whole normalised text (both sides alike).
_SPELLINGS = (
    (re.compile(r"our\b"), "or"),
    (re.compile(r"ae"), "e"),
    (re.compile(r"oe"), "e"),
    # Roman numerals of types and stages read as digits ("type II" -> "type 2").
    (re.compile(r"\bi\b"), "1"),
    (re.compile(r"\bii\b"), "2"),
    (re.compile(r"\biii\b"), "3"),
    (re.compile(r"\biv\b"), "4"),
)
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
# Words that carry no meaning for matching; kept in the n-grams, left out of the tokens.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "without",
        "due",
    ]
)


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed, British spellings folded, one space
    between words."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _NOT_WORD.sub(" ", folded).strip()
    for pattern, replacement in _SPELLINGS:
        folded = pattern.sub(replacement, folded)
    return folded


def stem(word: str) -> str:
    """A light plural stem: "tumors" -> "tumor", "diseases" -> "disease"; "ss", "us",
    "is" endings stay ("fibrosis", "virus")."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_tokens(normalized: str) -> list[str]:
    """The stemmed words of a normalised text, less the stop words."""
    return [stem(w) for w in normalized.split() if w not in STOP_WORDS]


def char_ngrams(normalized: str, n: int = 3) -> Counter[str]:
    """Counts of the n-grams of each space-padded word of a normalised text."""
    counts: Counter[str] = Counter()
    for word in normalized.split():
        padded = f" {word} "
        if len(padded) <= n:
            counts[padded] += 1
            continue
        for i in range(len(padded) - n + 1):
            counts[padded[i : i + n]] += 1
    return counts


# Words a vocabulary names otherwise (MeSH's "Prostatic Neoplasms" for "prostate
# carcinoma"): a mention that holds any is also looked up in this form.
SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        [
            "cancer",
            "cancers",
            "carcinoma",
            "carcinomas",
            "tumor",
            "tumors",
            "neoplasm",
            "malignancy",
            "malignancies",
            "neoplasia",
            "adenocarcinoma",
            "adenocarcinomas",
        ],
        "neoplasms",
    ),
    "renal": "kidney",
    "hepatic": "liver",
    "pulmonary": "lung",
    "gastric": "stomach",
    "cerebral": "brain",
    "cutaneous": "skin",
    "mammary": "breast",
    "colon": "colonic",
    "prostate": "prostatic",
    "pancreas": "pancreatic",
    "ovary": "ovarian",
    "testis": "testicular",
    "uterus": "uterine",
}


def synonym_variant(normalized: str) -> str | None:
    """A normalised text with the words of :data:`SYNONYMS` replaced, or None if it holds
    none."""
    words = normalized.split()
    replaced = [SYNONYMS.get(w, w) for w in words]
    return " ".join(replaced) if replaced != words else None
