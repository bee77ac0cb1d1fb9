"""Evaluating taggers on Spark DataFrames; the metrics themselves are in :mod:`sparkner.metrics`.

- strict: a predicted entity is right when a gold entity has exactly its span and type;
- relaxed: when it overlaps a gold entity of the same type;
- token: per tag, over tokens, as the reference product's training logs report it;
- assertions: per label, on chunks whose span matches a gold span (:func:`score_assertions`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkner.assertion.scoring import AssertionScores, score_assertions
from sparkner.metrics import Evaluation, Report, Scores, evaluate_spans, evaluate_tags

__all__ = [
    "AssertionScores", "Evaluation", "Report", "Scores", "evaluate_dataframe", "evaluate_spans",
    "evaluate_tags", "score_assertions",
]  # fmt: skip


def evaluate_dataframe(
    frame: DataFrame, label_col: str = "label", prediction_col: str = "ner"
) -> Evaluation:
    """Evaluate a DataFrame with gold and predicted ``named_entity`` columns (token aligned)."""
    rows = frame.select(
        F.col(f"{label_col}.result").alias("gold"), F.col(f"{prediction_col}.result").alias("pred")
    ).toLocalIterator()
    gold, pred = [], []
    for row in rows:
        gold.append(list(row.gold or []))
        pred.append(list(row.pred or []))
    return evaluate_tags(gold, pred)
