"""The tagger's training data: a few numpy arrays, not objects.

The training set is one vector per distinct word, and int32 word ids / int16 tag ids per
token, so 100k sentences fit in a small driver. The arrays are built here from Arrow tables;
:mod:`sparkner.stages.training_data` reads those tables from a training DataFrame. Nothing
here loads TensorFlow or Spark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparkner.core.annotation import AnnotationBatch


# -- lexicon features: a code per token from the lexicon column -----------------------------
def lexicon_codes(tokens: pa.Array, lexicon: pa.Array | None, classes: Sequence[str]) -> np.ndarray:
    """The lexicon code of each token (flattened rows, in order), int32: 0 (O) outside any
    match, ``1 + 2c`` (B) on the first token of a match of ``classes[c]``, ``2 + 2c`` (I) on
    its other tokens.

    ``tokens`` and ``lexicon`` are annotation columns of the same rows (``lexicon`` as
    LexiconMatcherModel writes it: one annotation per match, its class in metadata
    ``entity``). A match covers the tokens of its row that begin within its ``begin`` ..
    ``end``; a class not in ``classes`` (one the tagger never saw) gives O.
    """
    batch = AnnotationBatch(tokens)
    if lexicon is None:
        return np.zeros(len(batch), np.int32)
    return span_codes(batch.row_offsets, batch.begin, AnnotationBatch(lexicon), classes)


def span_codes(
    token_offsets: np.ndarray,
    token_begins: np.ndarray,
    matches: AnnotationBatch,
    classes: Sequence[str],
) -> np.ndarray:
    """:func:`lexicon_codes` for tokens given as row offsets [rows + 1] and begins [tokens]."""
    count = len(token_begins)
    codes = np.zeros(count, np.int32)
    if matches.num_rows != len(token_offsets) - 1:
        raise ValueError(
            f"the lexicon column has {matches.num_rows} rows, the tokens {len(token_offsets) - 1}"
        )
    if not count or not len(matches) or not classes:
        return codes
    index = pa.array(list(classes), pa.string())
    found = pc.index_in(matches.metadata("entity"), value_set=index)
    found = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    known = found >= 0
    if not known.any():
        return codes
    rows = matches.row_of()[known]
    begins, ends, cls = matches.begin[known], matches.end[known], found[known]
    # Tokens sorted by (row, begin) under one int64 key: a match's tokens are a range of it.
    token_rows = np.repeat(np.arange(len(token_offsets) - 1), np.diff(token_offsets))
    begins_all = np.asarray(token_begins, np.int64)
    span = int(max(begins_all.max(), ends.max())) - int(min(begins_all.min(), begins.min())) + 2
    low = int(min(begins_all.min(), begins.min()))
    keys = token_rows * span + (begins_all - low)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.searchsorted(sorted_keys, rows * span + (begins - low), side="left")
    stop = np.searchsorted(sorted_keys, rows * span + (ends - low), side="right")
    sizes = np.maximum(stop - first, 0)
    has = sizes > 0
    first, sizes, cls = first[has], sizes[has], cls[has]
    if not len(first):
        return codes
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    positions = order[np.repeat(first, sizes) + within]
    codes[positions] = np.repeat(2 + 2 * cls, sizes).astype(np.int32)
    codes[order[first]] = (1 + 2 * cls).astype(np.int32)
    return codes


def lexicon_classes_of(matches: AnnotationBatch) -> list[str]:
    """The distinct classes (metadata ``entity``) of a lexicon column's matches, sorted."""
    if not len(matches):
        return []
    entities = pc.drop_null(matches.metadata("entity"))
    return sorted(c for c in pc.unique(entities).to_pylist() if c)


# -- the training data ---------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingColumns:
    """The columns a tagger trains on: sentences, tokens, their word vectors, their gold tags,
    and the lexicon matches (None: no lexicon features); errors name them."""

    sentence: str
    token: str
    embeddings: str
    label: str
    lexicon: str | None = None


@dataclass
class SentenceSet:
    """Sentences as flat token arrays: word ids into a vocabulary, tag ids, offsets, and
    for a tagger with lexicon features, the tokens' lexicon codes."""

    word_ids: np.ndarray  # int32 [tokens]
    tag_ids: np.ndarray  # int16 [tokens]
    offsets: np.ndarray  # int64 [sentences + 1]
    lexicon: np.ndarray | None = None  # int32 [tokens]: lexicon_codes, or None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def subset(self, sentences: np.ndarray) -> SentenceSet:
        lengths = self.lengths[sentences]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        take = (
            np.concatenate(
                [np.arange(self.offsets[s], self.offsets[s + 1]) for s in sentences]
            ).astype(np.int64)
            if len(sentences)
            else np.zeros(0, np.int64)
        )
        lexicon = None if self.lexicon is None else self.lexicon[take]
        return SentenceSet(self.word_ids[take], self.tag_ids[take], offsets, lexicon)


@dataclass
class TrainingData:
    words: list[str]  # the vocabulary of distinct tokens
    vectors: np.ndarray  # float32 [words, dim]
    tags: list[str]
    train: SentenceSet
    validation: SentenceSet | None = None
    test: SentenceSet | None = None
    # The lexicon classes of the features (TaggerConfig.lexicon_classes); empty: none.
    lexicon_classes: list[str] = field(default_factory=list)


def add_words(data: TrainingData, vocabulary: pa.Table, embeddings: str) -> None:
    """Add the words of ``vocabulary`` (distinct words, column ``word``, with their vectors,
    column ``vector``) that ``data`` does not have yet to its vocabulary. ``embeddings``
    names the column they come from, in errors."""
    if vocabulary.num_rows == 0:
        if not data.words:
            raise ValueError("NerDLApproach: the training data has no embedded tokens")
        return
    words = vocabulary.column("word").combine_chunks()
    vector_lists = vocabulary.column("vector").combine_chunks()
    lengths = pc.list_value_length(vector_lists).to_numpy(zero_copy_only=False)
    dim = int(lengths.max())
    expected = data.vectors.shape[1] if data.words else dim
    if dim == 0 or (lengths != expected).any():
        raise ValueError(
            f"NerDLApproach: column {embeddings!r} must hold one {expected}-dimensional vector "
            f"per token; found dimensions {sorted(set(lengths.tolist()))[:5]}"
        )
    vectors = vector_lists.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
    known = pc.is_in(words, value_set=pa.array(data.words, pa.string()))
    new = pc.invert(known).to_numpy(zero_copy_only=False)
    data.words.extend(pc.filter(words, pc.invert(known)).to_pylist())
    fresh = vectors[new].astype(np.float32)
    data.vectors = fresh if data.vectors.size == 0 else np.concatenate([data.vectors, fresh])


def sentence_set(
    table: pa.Table, columns: TrainingColumns, data: TrainingData, grow_tags: bool = False
) -> SentenceSet:
    """Sentences as ids into ``data``'s vocabulary and tag set, from a table of one row per
    document: its tokens' ``words``, ``sentence`` numbers and ``begins`` (of the embeddings
    column), their gold ``tags`` and the tags' ``tag_begins`` (of the label column), and
    with a lexicon column, its matches (column ``lexicon``) as the tokens' lexicon codes.
    With ``grow_tags``, new tags join ``data.tags`` and the matches' classes become
    ``data.lexicon_classes``; otherwise those are used."""
    embeddings, label, lexicon = columns.embeddings, columns.label, columns.lexicon
    word_counts = pc.fill_null(pc.list_value_length(table.column("words")), 0)
    tag_counts = pc.fill_null(pc.list_value_length(table.column("tags")), 0)
    same = pc.equal(word_counts, tag_counts)
    if (
        not pc.all(same).as_py()
        or not pc.all(
            pc.equal(
                pc.list_flatten(table.column("begins")), pc.list_flatten(table.column("tag_begins"))
            )
        ).as_py()
    ):
        bad = [i for i, ok in enumerate(same.to_pylist()) if not ok][:1]
        where = f" (first at row {bad[0]})" if bad else ""
        raise ValueError(
            f"NerDLApproach: the label column {label!r} is not aligned with the tokens of "
            f"{embeddings!r}: each token needs one tag at the same begin{where}"
        )
    words = pc.list_flatten(table.column("words"))
    word_ids = pc.index_in(words, value_set=pa.array(data.words, pa.string()))
    word_ids = pc.fill_null(word_ids, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    # Tags go through a dictionary encoding: one Python string per distinct tag, not per token.
    flat_tags = pc.fill_null(pc.list_flatten(table.column("tags")), "O")
    encoded = pc.dictionary_encode(flat_tags).combine_chunks()
    distinct = encoded.dictionary.to_pylist()
    index = {t: i for i, t in enumerate(data.tags)}
    if grow_tags:
        for tag in sorted(set(distinct), key=lambda t: (t != "O", t)):
            index.setdefault(tag, len(index))
        data.tags[:] = list(index)
    unknown = sorted(t for t in distinct if t not in index)
    if unknown:
        raise ValueError(f"NerDLApproach: tags {unknown[:5]} do not occur in the training data")
    mapping = np.array([index[t] for t in distinct], dtype=np.int16)
    tag_ids = mapping[encoded.indices.to_numpy(zero_copy_only=False)]
    rows = np.repeat(np.arange(table.num_rows), word_counts.to_numpy(zero_copy_only=False))
    sentence_ids = pc.cast(
        pc.fill_null(pc.list_flatten(table.column("sentence")), "0"), pa.int64()
    ).to_numpy(zero_copy_only=False)
    if len(rows):
        change = (rows[1:] != rows[:-1]) | (sentence_ids[1:] != sentence_ids[:-1])
        starts = np.flatnonzero(np.concatenate([[True], change]))
    else:
        starts = np.zeros(0, dtype=np.int64)
    offsets = np.concatenate([starts, [len(rows)]]).astype(np.int64)
    codes = None
    if lexicon is not None:
        matches = AnnotationBatch(table.column("lexicon"))
        if grow_tags:
            data.lexicon_classes[:] = lexicon_classes_of(matches)
            if not data.lexicon_classes:
                raise ValueError(
                    f"NerDLApproach: the lexicon column {lexicon!r} has no matches in the "
                    f"training data; leave it out of inputCols, or use a lexicon whose "
                    f"terms occur in it"
                )
        token_offsets = np.concatenate([[0], np.cumsum(word_counts.to_numpy(zero_copy_only=False))])
        begins = pc.list_flatten(table.column("begins")).to_numpy(zero_copy_only=False)
        codes = span_codes(
            token_offsets.astype(np.int64), begins.astype(np.int64), matches, data.lexicon_classes
        )
    return SentenceSet(word_ids, tag_ids, offsets, codes)
