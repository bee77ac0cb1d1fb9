"""The tagger's training arrays from Arrow tables (sparkner.ner.data), without Spark: the
vocabulary grows by new words only, and documents become sentences of word and tag ids."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sparkner.ner.data import TrainingColumns, TrainingData, add_words, sentence_set

COLUMNS = TrainingColumns("sentence", "token", "embeddings", "label")


def empty_data() -> TrainingData:
    return TrainingData([], np.zeros((0, 0), np.float32), [], None)  # type: ignore[arg-type]


def vocabulary(words: list[str], vectors: list[list[float]]) -> pa.Table:
    return pa.table({"word": words, "vector": vectors})


def test_words_join_the_vocabulary_once_with_their_vectors():
    data = empty_data()
    add_words(data, vocabulary(["fever", "cough"], [[1.0, 2.0], [3.0, 4.0]]), "embeddings")
    add_words(data, vocabulary(["cough", "rash"], [[9.0, 9.0], [5.0, 6.0]]), "embeddings")
    assert data.words == ["fever", "cough", "rash"]
    assert data.vectors.dtype == np.float32
    assert data.vectors.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    add_words(data, vocabulary([], []), "embeddings")  # nothing new: nothing changes
    assert len(data.words) == 3


def test_vectors_of_another_dimension_or_none_at_all_are_refused():
    data = empty_data()
    with pytest.raises(ValueError, match="no embedded tokens"):
        add_words(data, vocabulary([], []), "embeddings")
    add_words(data, vocabulary(["fever"], [[1.0, 2.0]]), "embeddings")
    with pytest.raises(ValueError, match=r"'embeddings' must hold one 2-dimensional vector"):
        add_words(data, vocabulary(["rash"], [[1.0, 2.0, 3.0]]), "embeddings")


def documents(rows: list[list[tuple[str, str, int]]], shift_tag: bool = False) -> pa.Table:
    """One row per document of (word, tag, sentence) tokens, each token 10 characters on."""
    begins = [[10 * i for i in range(len(row))] for row in rows]
    return pa.table(
        {
            "words": [[w for w, _, _ in row] for row in rows],
            "sentence": [[str(s) for _, _, s in row] for row in rows],
            "tags": [[t for _, t, _ in row] for row in rows],
            "begins": begins,
            "tag_begins": [[b + shift_tag for b in row] for row in begins],
        }
    )


def test_documents_become_sentences_of_word_and_tag_ids():
    data = empty_data()
    add_words(data, vocabulary(["no", "fever", "rash"], [[0.0]] * 3), "embeddings")
    table = documents(
        [
            [("no", "O", 0), ("fever", "B-PROBLEM", 0), ("rash", "B-PROBLEM", 1)],
            [("unseen", "B-TEST", 0)],
        ]
    )
    sentences = sentence_set(table, COLUMNS, data, grow_tags=True)
    assert data.tags == ["O", "B-PROBLEM", "B-TEST"]  # O first, then sorted
    assert sentences.offsets.tolist() == [0, 2, 3, 4]  # a sentence ends at each new number
    assert sentences.word_ids.tolist() == [0, 1, 2, -1]  # -1: not in the vocabulary
    assert sentences.tag_ids.tolist() == [0, 1, 1, 2]
    assert sentences.lexicon is None
    with pytest.raises(ValueError, match=r"tags \['B-DRUG'\] do not occur in the training data"):
        sentence_set(documents([[("rash", "B-DRUG", 0)]]), COLUMNS, data)


def test_tags_not_at_their_tokens_are_refused_naming_the_columns():
    data = empty_data()
    add_words(data, vocabulary(["rash"], [[0.0]]), "embeddings")
    with pytest.raises(ValueError, match=r"label column 'label' is not aligned .* 'embeddings'"):
        sentence_set(documents([[("rash", "O", 0)]], shift_tag=True), COLUMNS, data, True)
