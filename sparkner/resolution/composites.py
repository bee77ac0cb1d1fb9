"""Composite mentions: one mention that names several concepts by coordination ("breast and
ovarian cancer" is "breast cancer" and "ovarian cancer").

The patterns are those the NCBI-disease benchmarks split composite mentions by (BioSyn's
query preprocessing, after D'Souza & Ng 2015): modifiers coordinated before a shared head
("brain, breast, and prostate cancer"), a shared head before coordinated complements ("cancer
of the breast and ovaries") and two modifiers joined by a slash ("cleft lip/palate"). Whether
a mention *is* composite is not decided here: "breast and ovarian cancer" is also the name of
a syndrome; :class:`~.resolver.Resolver` weighs the parts against the whole.
"""

from __future__ import annotations

import re

_WORD = r"[A-Za-z0-9][A-Za-z0-9'-]*"
_AND = r"(?:and/or|and|or)"
# "brain, breast, and prostate cancer", "sporadic breast and ovarian cancers",
# "Duchenne and Becker muscular dystrophy": the conjuncts share the words after the last.
_MODIFIERS = re.compile(
    rf"^(?P<first>(?:{_WORD},?\s+)+?){_AND}\s+(?:the\s+)?(?P<last>{_WORD})\s+(?P<head>\S.*)$",
    re.IGNORECASE,
)
# "cancer of the breast and ovaries", "deficiency of C6 and C7": the conjuncts share the words
# up to "of".
_COMPLEMENTS = re.compile(
    rf"^(?P<head>.*?\S\s+of)\s+(?:both\s+)?(?:the\s+)?(?P<first>(?:{_WORD},?\s+)*?{_WORD}),?\s+"
    rf"{_AND}\s+(?:the\s+)?(?P<last>{_WORD})$",
    re.IGNORECASE,
)
# "breast/ovarian cancer", "cleft lip/palate": one slash between two words.
_SLASH = re.compile(
    rf"^(?P<before>(?:{_WORD}\s+)*)(?P<a>{_WORD})/(?P<b>{_WORD})(?P<after>(?:\s+\S+)*)$"
)
# A conjunct with these words is a phrase of its own, not a modifier of the head.
_LINKING = re.compile(r"\b(?:of|in|with|without)\b", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|both)\s+", re.IGNORECASE)


def _items(listed: str) -> list[str]:
    """The conjuncts of "a, b, c" (or of "a b", one conjunct of several words)."""
    return [_ARTICLE.sub("", item.strip()) for item in listed.split(",") if item.strip()]


def split_composite(mention: str) -> list[str] | None:
    """The mentions a coordination stands for ("breast and ovarian cancer" ->
    ["breast cancer", "ovarian cancer"]), or None if ``mention`` is not one."""
    text = " ".join(mention.split())
    if not text:
        return None
    parts: list[str] = []
    complements = _COMPLEMENTS.match(text)
    modifiers = _MODIFIERS.match(text)
    slash = _SLASH.match(text) if "/" in text and " and/or " not in text else None
    if complements:
        head = complements.group("head")
        parts = [f"{head} {item}" for item in _items(complements.group("first"))]
        parts.append(f"{head} {complements.group('last')}")
    elif modifiers and not _LINKING.search(modifiers.group("first")):
        head = modifiers.group("head")
        parts = [f"{item} {head}" for item in _items(modifiers.group("first"))]
        parts.append(f"{modifiers.group('last')} {head}")
    elif slash:
        before, after = slash.group("before"), slash.group("after")
        parts = [f"{before}{slash.group(side)}{after}" for side in ("a", "b")]
    parts = [" ".join(p.split()) for p in parts]
    return parts if len(parts) > 1 and all(parts) else None
