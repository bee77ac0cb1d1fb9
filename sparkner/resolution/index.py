"""Exact nearest aliases by cosine of character n-gram TF-IDF vectors (as scispaCy's linker
builds them, with an exact search in place of its approximate one).

The index is the alias x n-gram TF-IDF matrix (sublinear term frequency, smoothed idf, rows
of unit length) stored n-gram major, as posting lists: for each n-gram, the aliases that hold
it and their weights. A query's scores against every alias are the sparse product of its
vector with the matrix: the weighted sum of the posting lists of its n-grams, exact, and
cheap because a query has a few dozen n-grams.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sparkner.resolution.text import char_ngrams

NGRAM = 3
# Scores held at once by a block of searches (texts x aliases), about 16 MB of float64.
_BLOCK_SCORES = 2_000_000


@dataclass(frozen=True)
class NgramIndex:
    """Posting lists of an alias x n-gram TF-IDF matrix. ``indptr[g]:indptr[g + 1]`` are the
    positions of n-gram ``g``'s postings in ``aliases`` (alias numbers) and ``weights``;
    ``idf`` holds each n-gram's inverse document frequency; ``ngrams`` the n-grams."""

    ngrams: tuple[str, ...]
    idf: np.ndarray
    indptr: np.ndarray
    aliases: np.ndarray
    weights: np.ndarray
    alias_count: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ids", {g: i for i, g in enumerate(self.ngrams)})
        # Python floats: the query loop reads them one at a time.
        idf = [float(x) for x in self.idf]
        object.__setattr__(self, "_idf", idf)
        object.__setattr__(self, "_unknown_idf", max(idf, default=1.0))
        # Plain views of the (memory-mapped) postings: indexing a np.memmap wraps every
        # result in a memmap, which costs more than the gather itself on small queries.
        object.__setattr__(self, "_postings", (np.asarray(self.aliases), np.asarray(self.weights)))
        object.__setattr__(self, "_indptr", np.asarray(self.indptr, np.int64))

    @property
    def ids(self) -> dict[str, int]:
        return self.__dict__["_ids"]

    def query_vector(self, normalized: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's known n-grams and their weights, scaled so that the whole vector
        (unknown n-grams counted at the highest idf) has unit length."""
        counts = char_ngrams(normalized, NGRAM)
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idf, unknown_idf = self.__dict__["_idf"], self.__dict__["_unknown_idf"]
        ids, weights, norm = [], [], 0.0
        for gram, count in counts.items():
            known = self.ids.get(gram)
            weight = (1.0 + math.log(count)) * (unknown_idf if known is None else idf[known])
            norm += weight * weight
            if known is not None:
                ids.append(known)
                weights.append(weight)
        scale = 1.0 / math.sqrt(norm) if norm > 0 else 0.0
        return np.asarray(ids, np.int64), np.asarray(weights, np.float32) * scale

    def search(self, normalized: str, top: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``top`` aliases most similar to a normalised text, best first (ties: the lower
        alias number first), and their cosines."""
        return self.search_many([normalized], top)[0]

    def search_many(self, texts: Sequence[str], top: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`search` for each of ``texts`` (normalised), as one sparse product per block
        of texts: the postings of all their n-grams gathered at once and summed per (text,
        alias) by one ``bincount`` over a dense block of scores (no sort of the postings)."""
        found: list[tuple[np.ndarray, np.ndarray]] = []
        width = max(self.alias_count, 1)
        block = max(1, _BLOCK_SCORES // width)
        for start in range(0, len(texts), block):
            found.extend(self._search_block(texts[start : start + block], top, width))
        return found

    def _search_block(
        self, texts: Sequence[str], top: int, width: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        vectors = [self.query_vector(text) for text in texts]
        grams = np.concatenate([ids for ids, _ in vectors]) if vectors else np.zeros(0, np.int64)
        weights = np.concatenate([w for _, w in vectors]) if vectors else np.zeros(0, np.float32)
        owner = np.repeat(np.arange(len(vectors)), [len(ids) for ids, _ in vectors])
        indptr = self.__dict__["_indptr"]
        starts = indptr[grams]
        lengths = indptr[grams + 1] - starts
        # Positions of every posting of every n-gram, without a Python loop over n-grams.
        offsets = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        aliases, alias_weights = self.__dict__["_postings"]
        keys = np.repeat(owner * width, lengths) + aliases[positions]
        products = np.repeat(weights, lengths) * alias_weights[positions]
        scores = np.bincount(keys, weights=products, minlength=len(vectors) * width)
        scores = scores.reshape(len(vectors), width)
        results = []
        for row in scores:
            hits = np.argpartition(-row, top - 1)[:top] if len(row) > top else np.arange(len(row))
            hits = hits[row[hits] > 0]
            values = row[hits].astype(np.float32)
            order = np.lexsort((hits, -values))
            results.append((hits[order].astype(np.int64), values[order]))
        return results


def build_index(normalized_aliases: Sequence[str]) -> NgramIndex:
    """The index of normalised aliases (alias ``i`` is the ``i``-th)."""
    vocabulary: dict[str, int] = {}
    gram_ids: list[int] = []
    alias_ids: list[int] = []
    counts: list[int] = []
    for alias, text in enumerate(normalized_aliases):
        for gram, count in char_ngrams(text, NGRAM).items():
            gram_ids.append(vocabulary.setdefault(gram, len(vocabulary)))
            alias_ids.append(alias)
            counts.append(count)
    grams = np.asarray(gram_ids, np.int64)
    owners = np.asarray(alias_ids, np.int64)
    total = len(normalized_aliases)
    df = np.bincount(grams, minlength=len(vocabulary))
    idf = (np.log((1.0 + total) / (1.0 + df)) + 1.0).astype(np.float32)
    weights = (1.0 + np.log(np.asarray(counts, np.float64))) * idf[grams]
    norms = np.sqrt(np.bincount(owners, weights=weights * weights, minlength=total))
    weights = weights / np.where(norms > 0, norms, 1.0)[owners]
    order = np.lexsort((owners, grams))
    indptr = np.zeros(len(vocabulary) + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    ngrams = [""] * len(vocabulary)
    for gram, number in vocabulary.items():
        ngrams[number] = gram
    return NgramIndex(
        ngrams=tuple(ngrams),
        idf=idf,
        indptr=indptr,
        aliases=owners[order].astype(np.int32),
        weights=weights[order].astype(np.float16),
        alias_count=total,
    )
