"""A tagger's training data read from Spark: the columns of a training DataFrame collected
into the arrays of :mod:`sparkner.ner.data` in the driver.

Spark dedupes the words before they are collected, so only one vector per distinct word
reaches the driver; the tokens come as one Arrow row per document, turned into ids there.
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkner.ner.data import (
    SentenceSet,
    TrainingColumns,
    TrainingData,
    add_words,
    sentence_set,
)


def collect_training_data(frame: DataFrame, columns: TrainingColumns) -> TrainingData:
    """Distinct words with their vectors (deduplicated by Spark), then word and tag ids, and
    the tokens' lexicon codes when there is a lexicon column (its classes are those its
    matches have in ``frame``)."""
    data = TrainingData(
        words=[],
        vectors=np.zeros((0, 0), np.float32),
        tags=[],
        train=None,  # type: ignore[arg-type]
    )
    add_vocabulary(data, frame, columns)
    data.train = collect_sentences(frame, columns, data, grow_tags=True)
    if len(data.train) == 0:
        raise ValueError("NerDLApproach: the training data has no labelled sentences")
    return data


def add_vocabulary(data: TrainingData, frame: DataFrame, columns: TrainingColumns) -> None:
    """Add the distinct words of ``frame`` and their vectors to ``data`` (Spark dedupes them,
    so only one vector per distinct word reaches the driver)."""
    vocabulary = (
        frame.select(F.explode(columns.embeddings).alias("e"))
        .select(F.col("e.result").alias("word"), F.col("e.embeddings").alias("vector"))
        .dropDuplicates(["word"])
        .toArrow()
    )
    add_words(data, vocabulary, columns.embeddings)


def collect_sentences(
    frame: DataFrame, columns: TrainingColumns, data: TrainingData, grow_tags: bool = False
) -> SentenceSet:
    """Sentences of ``frame`` as ids into ``data``'s vocabulary and tag set, with the
    tokens' lexicon codes when there is a lexicon column (with ``grow_tags``, its classes
    become ``data.lexicon_classes``; otherwise those are used)."""
    embeddings, label = columns.embeddings, columns.label
    selected = [
        F.col(f"{embeddings}.result").alias("words"),
        F.transform(embeddings, lambda e: e["metadata"]["sentence"]).alias("sentence"),
        F.col(f"{label}.result").alias("tags"),
        F.col(f"{embeddings}.begin").alias("begins"),
        F.col(f"{label}.begin").alias("tag_begins"),
    ]
    if columns.lexicon is not None:
        selected.append(F.col(columns.lexicon).alias("lexicon"))
    return sentence_set(frame.select(*selected).toArrow(), columns, data, grow_tags)
