"""Resolving mentions to concepts, and the batch function over annotation arrays.

For a mention (its abbreviations expanded from the note), :class:`Resolver` takes the
nearest aliases by n-gram cosine (:mod:`.index`), groups them by concept (the best few
concepts are the candidates), describes each candidate by the features of
:data:`~.ranker.FEATURES` and ranks them by the re-ranker's probability. The top candidate
is the answer if its probability reaches the threshold; else the mention gets no code.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import ENTITY, AnnotationBatch, build_annotations
from sparkner.embeddings.store import HEADER_FILE as VECTORS_HEADER
from sparkner.embeddings.store import EmbeddingStore, open_store
from sparkner.resolution.abbreviations import expand, find_abbreviations
from sparkner.resolution.composites import split_composite
from sparkner.resolution.ranker import FEATURES, Ranker
from sparkner.resolution.store import PREFERRED, Vocabulary, load_vocabulary
from sparkner.resolution.text import STOP_WORDS, content_tokens, normalize, synonym_variant
from sparkner.resources import bundled_folder

# Between the k candidates in the all_k_* metadata, as Spark NLP's resolvers write them.
SEPARATOR = ":::"
TOP_ALIASES = 100
TOP_CONCEPTS = 20
# The nearest aliases of a candidate concept that its token features look at.
ALIASES_PER_CONCEPT = 3
_CACHE_LIMIT = 200_000
_RESOLVED_LIMIT = 50_000

# Which concept classes suit a chunk of each entity type (upper case): the class_match
# feature. Types not listed have no preference.
ENTITY_CLASSES: Mapping[str, tuple[str, ...]] = {
    "PROBLEM": ("PROBLEM",),
    "DISEASE": ("PROBLEM",),
    "DISORDER": ("PROBLEM",),
    "SYMPTOM": ("PROBLEM",),
    "TEST": ("TEST",),
    "TREATMENT": ("TREATMENT", "TREATMENT_DRUG"),
    "DRUG": ("TREATMENT_DRUG",),
    "MEDICATION": ("TREATMENT_DRUG",),
    "CHEMICAL": ("CHEMICAL", "TREATMENT_DRUG"),
}


@dataclass(frozen=True)
class Candidate:
    """A candidate concept of a mention: its concept and best alias (numbers in the
    vocabulary), the alias's n-gram cosine, the re-ranker's probability and whether an alias
    has exactly the mention's words."""

    concept: int
    alias: int
    ngram: float
    probability: float
    exact: bool = False


@dataclass(frozen=True)
class Resolution:
    """A mention resolved: its candidates, most probable first, and, for a composite mention
    resolved as its parts ("breast and ovarian cancer"), each part's text and best
    candidate."""

    candidates: tuple[Candidate, ...]
    parts: tuple[tuple[str, Candidate], ...] = ()

    @property
    def best(self) -> Candidate | None:
        """The answer: the first part's for a composite, else the top candidate."""
        if self.parts:
            return self.parts[0][1]
        return self.candidates[0] if self.candidates else None

    @property
    def confidence(self) -> float:
        """The probability of the answer (of its least probable part for a composite)."""
        if self.parts:
            return min(c.probability for _, c in self.parts)
        return self.candidates[0].probability if self.candidates else 0.0

    def concepts(self) -> list[int]:
        """The concepts named: each part's (once each), or the top candidate's."""
        if self.parts:
            return list(dict.fromkeys(c.concept for _, c in self.parts))
        return [self.candidates[0].concept] if self.candidates else []


def _head(tokens: list[str], normalized: str) -> str:
    """The head word: the last content word, or the last before "of" ("cancer of the
    breast" -> "cancer")."""
    words = normalized.split()
    if "of" in words[1:]:
        before = content_tokens(" ".join(words[: words.index("of")]))
        if before:
            return before[-1]
    return tokens[-1] if tokens else ""


@dataclass(frozen=True)
class _Text:
    """What the features read of a text: its content tokens (stemmed), as a set and sorted,
    its head word and the words its vector is the mean of."""

    tokens: tuple[str, ...]
    token_set: frozenset[str]
    sorted_tokens: tuple[str, ...]
    head: str
    words: tuple[str, ...]


def use_parts(whole: Candidate | None, parts: list[Candidate | None]) -> bool:
    """Whether a coordination is resolved as its parts: unless the whole is an alias word for
    word ("hand, foot and mouth disease"), when every part has a candidate at least as
    probable as the whole's."""
    if any(p is None for p in parts):
        return False
    if whole is None:
        return True
    if whole.exact:
        return False
    return min(p.probability for p in parts if p is not None) >= whole.probability


class Resolver:
    """A vocabulary with its index and re-ranker, and (optionally) word vectors."""

    def __init__(self, vocabulary: Vocabulary, vectors: EmbeddingStore | None = None) -> None:
        self.vocabulary = vocabulary
        self.vectors = vectors
        self.ranker: Ranker = vocabulary.ranker
        # In memory (small), as they are read one element at a time.
        self._alias_concept = np.array(vocabulary.alias_concept)
        self._alias_flags = np.array(vocabulary.alias_flags)
        counts = np.bincount(self._alias_concept, minlength=len(vocabulary.codes))
        self._prior = (np.log1p(counts) / 5.0).astype(np.float64)
        # Per-alias and per-word facts of the vocabulary, filled as aliases are first met
        # (they depend on the vocabulary only, not on the mentions).
        self._alias_texts: dict[int, _Text] = {}
        self._alias_vector: dict[int, np.ndarray | None] = {}
        self._word_rows: dict[str, int] = {}
        # Mentions already resolved by this process (a note stream repeats "hypertension"
        # often); bounded, and measured on notes never seen before (bench/resolution.py).
        self._resolved: dict[tuple[str, int], tuple[Candidate, ...]] = {}

    def with_ranker(self, ranker: Ranker) -> Resolver:
        """The same vocabulary and vectors with another re-ranker (for training)."""
        other = Resolver(self.vocabulary, self.vectors)
        other.ranker = ranker
        other._alias_texts, other._word_rows = self._alias_texts, self._word_rows
        other._alias_vector = self._alias_vector
        return other

    # -- texts ----------------------------------------------------------------------------
    def _vectors(self, word_lists: Sequence[Sequence[str]]) -> list[np.ndarray | None]:
        """The unit mean word vector of each list of words (None: no known word), with one
        vocabulary lookup for all their words not met before."""
        if self.vectors is None:
            return [None] * len(word_lists)
        unknown = {w for words in word_lists for w in words if w not in self._word_rows}
        if unknown:
            if len(self._word_rows) + len(unknown) > _CACHE_LIMIT:
                self._word_rows.clear()
                unknown = {w for words in word_lists for w in words}
            listed = sorted(unknown)
            rows = self.vectors.lookup(listed, case_sensitive=False)
            self._word_rows.update(zip(listed, rows.tolist(), strict=True))
        known = [[r for w in words if (r := self._word_rows[w]) >= 0] for words in word_lists]
        counts = np.asarray([len(k) for k in known], np.int64)
        out: list[np.ndarray | None] = [None] * len(word_lists)
        if not counts.sum():
            return out
        flat = np.fromiter((r for k in known for r in k), np.int64, count=int(counts.sum()))
        starts = (np.cumsum(counts) - counts)[counts > 0]
        # The sum points the same way as the mean: its unit vector is the mean's.
        sums = np.add.reduceat(self.vectors.vectors_for(flat), starts, axis=0)
        norms = np.linalg.norm(sums, axis=1)
        for position, total, norm in zip(np.flatnonzero(counts), sums, norms, strict=True):
            if norm > 0:
                out[position] = total / norm
        return out

    def _text(self, normalized: str) -> _Text:
        tokens = content_tokens(normalized)
        words = [w for w in normalized.split() if w not in STOP_WORDS]
        return _Text(
            tuple(tokens),
            frozenset(tokens),
            tuple(sorted(tokens)),
            _head(tokens, normalized),
            tuple(words),
        )

    def _alias(self, alias: int) -> _Text:
        found = self._alias_texts.get(alias)
        if found is None:
            if len(self._alias_texts) > _CACHE_LIMIT:
                self._alias_texts.clear()
            forms = self.vocabulary.alias_forms
            form = forms[alias] if forms is not None else normalize(self.vocabulary.aliases[alias])
            found = self._alias_texts[alias] = self._text(form)
        return found

    def _alias_vectors_for(self, aliases: Collection[int]) -> None:
        """Fill the vectors of ``aliases`` not met before, together."""
        missing = [a for a in aliases if a not in self._alias_vector]
        if not missing:
            return
        if len(self._alias_vector) + len(missing) > _CACHE_LIMIT:
            self._alias_vector.clear()
        found = self._vectors([self._alias(a).words for a in missing])
        self._alias_vector.update(zip(missing, found, strict=True))

    def wanted_classes(self, entity: str | None) -> int:
        """The class bits that suit a chunk of type ``entity`` (0: no preference)."""
        names = self.vocabulary.class_names
        classes = ENTITY_CLASSES.get((entity or "").upper(), ())
        return sum(1 << names.index(c) for c in classes if c in names)

    # -- candidates and their features ------------------------------------------------------
    def candidates(self, text: str, wanted: int = 0) -> tuple[list[int], list[int], np.ndarray]:
        """For a mention: its candidate concepts, each one's best alias, and their features
        (candidates x :data:`FEATURES`). A mention with words of
        :data:`~.text.SYNONYMS` is also looked up with them replaced; a concept found both
        ways keeps the row the re-ranker scores higher."""
        return self.candidates_many([text], wanted)[0]

    def candidates_many(
        self, texts: Sequence[str], wanted: int = 0
    ) -> list[tuple[list[int], list[int], np.ndarray]]:
        """:meth:`candidates` of each of ``texts``, their n-gram searches (synonym forms
        included) made together."""
        normalized = [normalize(t) for t in texts]
        variants = [synonym_variant(n) for n in normalized]
        queries = list(dict.fromkeys([*normalized, *(v for v in variants if v is not None)]))
        searched = self.vocabulary.index.search_many(queries, TOP_ALIASES)
        groups = {q: self._groups(*found) for q, found in zip(queries, searched, strict=True)}
        # Every vector the features need, looked up together: the queries' and each
        # candidate concept's best alias's.
        self._alias_vectors_for({listed[0][0] for g in groups.values() for listed in g.values()})
        texts_of = {q: self._text(q) for q in queries}
        vectors_of = dict(
            zip(queries, self._vectors([texts_of[q].words for q in queries]), strict=True)
        )
        top_of = {
            q: float(found[1][0]) if len(found[1]) else 0.0
            for q, found in zip(queries, searched, strict=True)
        }

        def rows(query: str, variant: bool) -> tuple[list[int], list[int], np.ndarray]:
            return self._candidates_of(
                texts_of[query], vectors_of[query], groups[query], top_of[query], wanted, variant
            )

        found = []
        for norm, variant in zip(normalized, variants, strict=True):
            first = rows(norm, False)
            found.append(first if variant is None else self._merge(first, rows(variant, True)))
        return found

    def _groups(
        self, aliases: np.ndarray, scores: np.ndarray
    ) -> dict[int, list[tuple[int, float]]]:
        """The nearest aliases by concept (the first :data:`TOP_CONCEPTS` concepts met)."""
        groups: dict[int, list[tuple[int, float]]] = {}
        owners = self._alias_concept[aliases] if len(aliases) else aliases
        for alias, concept, score in zip(
            aliases.tolist(), owners.tolist(), scores.tolist(), strict=True
        ):
            listed = groups.get(concept)
            if listed is None:
                if len(groups) >= TOP_CONCEPTS:
                    continue
                listed = groups[concept] = []
            listed.append((alias, score))
        return groups

    def _merge(
        self,
        first: tuple[list[int], list[int], np.ndarray],
        second: tuple[list[int], list[int], np.ndarray],
    ) -> tuple[list[int], list[int], np.ndarray]:
        concepts, aliases, rows = first
        more_concepts, more_aliases, more_rows = second
        if not len(more_rows):
            return first
        if not len(rows):
            return second
        weights = self.ranker.weights
        position = {c: i for i, c in enumerate(concepts)}
        merged_rows = list(rows)
        for concept, alias, row in zip(more_concepts, more_aliases, more_rows, strict=True):
            i = position.get(concept)
            if i is None:
                position[concept] = len(concepts)
                concepts.append(concept)
                aliases.append(alias)
                merged_rows.append(row)
            elif row @ weights > merged_rows[i] @ weights:
                aliases[i], merged_rows[i] = alias, row
        return concepts, aliases, np.asarray(merged_rows, np.float64)

    def _candidates_of(
        self,
        mention: _Text,
        mention_vector: np.ndarray | None,
        groups: dict[int, list[tuple[int, float]]],
        top_score: float,
        wanted: int,
        variant: bool,
    ) -> tuple[list[int], list[int], np.ndarray]:
        if not groups:
            return [], [], np.zeros((0, len(FEATURES)))
        mention_sorted = mention.sorted_tokens
        rows = []
        concepts, best_aliases = [], []
        for concept, listed in groups.items():
            best, best_score = listed[0]
            jaccard = covered = alias_covered = head = exact = 0.0
            for alias, _ in listed[:ALIASES_PER_CONCEPT]:
                other = self._alias(alias)
                common = len(mention.token_set & other.token_set)
                union = len(mention.token_set | other.token_set)
                jaccard = max(jaccard, common / union if union else 0.0)
                covered = max(covered, common / len(mention.token_set) if mention.token_set else 0)
                alias_covered = max(
                    alias_covered, common / len(other.token_set) if other.token_set else 0.0
                )
                head = max(head, float(bool(mention.head) and mention.head == other.head))
                exact = max(exact, float(other.sorted_tokens == mention_sorted))
            best_vector = self._alias_vector.get(best)
            similarity = 0.0
            if mention_vector is not None and best_vector is not None:
                similarity = float(mention_vector @ best_vector)
            bits = int(self.vocabulary.concept_classes[concept])
            class_match = 0.5 if not wanted or not bits else float(bool(bits & wanted))
            rows.append(
                [
                    1.0,
                    best_score,
                    best_score - top_score,
                    np.log1p(len(listed)),
                    similarity,
                    jaccard,
                    covered,
                    alias_covered,
                    head,
                    exact,
                    float(self._alias_flags[best] & PREFERRED),
                    class_match,
                    self._prior[concept],
                    float(variant),
                ]
            )
            concepts.append(concept)
            best_aliases.append(best)
        return concepts, best_aliases, np.asarray(rows, np.float64)

    def resolve(self, text: str, entity: str | None = None) -> tuple[Candidate, ...]:
        """The candidates of a mention, most probable first."""
        return self.resolve_many([text], entity)[0]

    def resolve_many(
        self, texts: Sequence[str], entity: str | None = None
    ) -> list[tuple[Candidate, ...]]:
        """:meth:`resolve` for each of ``texts`` (the same text resolved once)."""
        wanted = self.wanted_classes(entity)
        resolved: dict[str, tuple[Candidate, ...]] = {}
        missing = []
        for text in dict.fromkeys(texts):
            known = self._resolved.get((text, wanted))
            if known is None:
                missing.append(text)
            else:
                resolved[text] = known
        if len(self._resolved) + len(missing) > _RESOLVED_LIMIT:
            self._resolved.clear()
        exact_column = FEATURES.index("exact")
        for text, (concepts, aliases, features) in zip(
            missing, self.candidates_many(missing, wanted), strict=True
        ):
            probabilities = self.ranker.probabilities(features)
            order = np.argsort(-probabilities, kind="stable")
            resolved[text] = tuple(
                Candidate(
                    concepts[i],
                    aliases[i],
                    float(features[i, 1]),
                    float(probabilities[i]),
                    bool(features[i, exact_column]),
                )
                for i in order
            )
            self._resolved[(text, wanted)] = resolved[text]
        return [resolved[t] for t in texts]

    def resolve_mentions(
        self, texts: Sequence[str], entity: str | None = None, composites: bool = True
    ) -> list[Resolution]:
        """Each mention resolved; with ``composites``, a coordination ("breast and ovarian
        cancer", :func:`~.composites.split_composite`) is resolved as its parts where
        :func:`use_parts` prefers them."""
        wholes = self.resolve_many(texts, entity)
        splits = [split_composite(t) if composites else None for t in texts]
        part_texts = [p for parts in splits if parts for p in parts]
        part_results = dict(zip(part_texts, self.resolve_many(part_texts, entity), strict=True))
        resolutions = []
        for whole, parts in zip(wholes, splits, strict=True):
            if parts:
                bests = [part_results[p][0] if part_results[p] else None for p in parts]
                if use_parts(whole[0] if whole else None, bests):
                    chosen = tuple((p, b) for p, b in zip(parts, bests, strict=True) if b)
                    resolutions.append(Resolution(whole, chosen))
                    continue
            resolutions.append(Resolution(whole))
        return resolutions


def _document_texts(documents: AnnotationBatch) -> list[str]:
    texts = [""] * documents.num_rows
    results = documents.result
    for row in range(documents.num_rows):
        start, stop = documents.row_offsets[row], documents.row_offsets[row + 1]
        texts[row] = " ".join(results[start:stop])
    return texts


def resolve_chunks(
    documents: pa.Array,
    chunks: pa.Array,
    resolver: Resolver,
    entity_types: Collection[str] = (),
    threshold: float = 0.5,
    neighbours: int = 5,
    composites: bool = False,
) -> pa.Array:
    """One ``entity`` annotation per resolved chunk, for a batch of rows.

    ``documents`` (the notes, or their sentences) are read for the abbreviations they
    define; ``chunks`` are resolved when their ``entity`` metadata is in ``entity_types``
    (all chunks if it is empty) and their best candidate's probability reaches
    ``threshold``. Each annotation keeps its chunk's span; ``result`` is the code and the
    metadata hold the chunk's text (``target_text``), the code's name (``resolved_text``),
    the alias that matched, ``confidence``, ``distance`` (1 - the alias's n-gram cosine), the
    ``neighbours`` best candidates (``all_k_results``, ``all_k_resolutions``,
    ``all_k_distances``, ``all_k_confidences``, joined by ``:::``), the vocabulary, the
    chunk's ``chunk``, ``sentence`` and ``entity``, and ``aux`` (another code of the concept,
    such as a drug's UNII) where there is one. With ``composites``, a coordination resolved
    as its parts ("breast and ovarian cancer") has the first part's code as ``result`` and
    ``composite_codes`` (every part's code, ``|``-joined as NCBI-disease writes them) and
    ``composite_texts`` (the parts); its confidence is its least probable part's.
    """
    chunk_batch = AnnotationBatch(chunks)
    document_batch = AnnotationBatch(documents)
    if document_batch.num_rows != chunk_batch.num_rows:
        raise ValueError(
            f"documents and chunks must have as many rows: {document_batch.num_rows}, "
            f"{chunk_batch.num_rows}"
        )
    vocabulary = resolver.vocabulary
    wanted_types = {t.upper() for t in entity_types}
    count = len(chunk_batch)
    entities = chunk_batch.metadata("entity").to_pylist() if count else []
    chunk_numbers = chunk_batch.metadata("chunk").to_pylist() if count else []
    sentences = chunk_batch.metadata("sentence").to_pylist() if count else []
    rows = chunk_batch.row_of()
    texts = chunk_batch.result
    document_texts: list[str] | None = None
    abbreviations: dict[int, dict[str, str]] = {}
    keep: list[int] = []
    out: dict[str, list[str | None]] = {
        key: []
        for key in (
            "target_text",
            "resolved_text",
            "resolved_alias",
            "confidence",
            "distance",
            "all_k_results",
            "all_k_resolutions",
            "all_k_distances",
            "all_k_confidences",
            "vocabulary",
            "aux",
            "composite_codes",
            "composite_texts",
            "chunk",
            "sentence",
            "entity",
        )
    }
    # Which chunks to resolve, with their notes' abbreviations expanded; grouped by type
    # (the type sets the wanted concept classes) and resolved together.
    wanted: dict[str | None, list[tuple[int, str]]] = {}
    for i in range(count):
        entity = entities[i]
        if wanted_types and (entity or "").upper() not in wanted_types:
            continue
        text = texts[i]
        if not text.strip():
            continue
        row = int(rows[i])
        if row not in abbreviations:
            if document_texts is None:
                document_texts = _document_texts(document_batch)
            abbreviations[row] = find_abbreviations(document_texts[row])
        wanted.setdefault(entity, []).append((i, expand(text, abbreviations[row])))
    resolutions: dict[int, Resolution] = {}
    for entity, listed in wanted.items():
        found = resolver.resolve_mentions([t for _, t in listed], entity, composites)
        resolutions.update(zip((i for i, _ in listed), found, strict=True))
    codes: list[str] = []
    for i in sorted(resolutions):
        resolution = resolutions[i]
        best = resolution.best
        if best is None or resolution.confidence < threshold:
            continue
        row = int(rows[i])
        candidates = resolution.candidates if not resolution.parts else (best,)
        shown = candidates[: max(neighbours, 1)]
        keep.append(i)
        codes.append(vocabulary.codes[best.concept])
        out["target_text"].append(texts[i])
        out["resolved_text"].append(vocabulary.names[best.concept])
        out["resolved_alias"].append(vocabulary.aliases[best.alias])
        out["confidence"].append(f"{resolution.confidence:.4f}")
        out["distance"].append(f"{1.0 - best.ngram:.4f}")
        out["all_k_results"].append(SEPARATOR.join(vocabulary.codes[c.concept] for c in shown))
        out["all_k_resolutions"].append(SEPARATOR.join(vocabulary.names[c.concept] for c in shown))
        out["all_k_distances"].append(SEPARATOR.join(f"{1.0 - c.ngram:.4f}" for c in shown))
        out["all_k_confidences"].append(SEPARATOR.join(f"{c.probability:.4f}" for c in shown))
        out["vocabulary"].append(vocabulary.vocabulary)
        out["aux"].append(vocabulary.aux[best.concept] or None)
        # A composite: every part's code, joined by "|" as NCBI-disease writes them.
        named = resolution.concepts() if resolution.parts else []
        out["composite_codes"].append("|".join(vocabulary.codes[c] for c in named) or None)
        out["composite_texts"].append("|".join(p for p, _ in resolution.parts) or None)
        position = i - int(chunk_batch.row_offsets[row])
        out["chunk"].append(chunk_numbers[i] if chunk_numbers[i] is not None else str(position))
        out["sentence"].append(sentences[i] if sentences[i] is not None else "0")
        out["entity"].append(entities[i])
    picked = np.asarray(keep, np.int64)
    row_offsets = np.zeros(chunk_batch.num_rows + 1, np.int64)
    np.cumsum(np.bincount(rows[picked], minlength=chunk_batch.num_rows), out=row_offsets[1:])
    return build_annotations(
        ENTITY,
        row_offsets,
        chunk_batch.begin[picked],
        chunk_batch.end[picked],
        pa.array(codes, pa.string()),
        metadata={key: pa.array(values, pa.string()) for key, values in out.items()},
    )


def load_resolver(folder: str) -> Resolver:
    """The resolver in ``folder``, with the bundled word vectors its header names."""
    vocabulary = load_vocabulary(folder)
    vectors = None
    if vocabulary.embeddings:
        vectors = open_store(bundled_folder(vocabulary.embeddings, VECTORS_HEADER, "embeddings"))
    return Resolver(vocabulary, vectors)
