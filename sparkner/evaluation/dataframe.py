"""Evaluating a tagger on a Spark DataFrame of gold and predicted tags."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkner.ner.metrics import Evaluation, evaluate_tags


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
