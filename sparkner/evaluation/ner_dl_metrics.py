"""NerDLMetrics: per-entity precision, recall and F1 of tag columns in a DataFrame, with the
shape of Spark NLP's ``NerDLMetrics`` (``from sparknlp_jsl.eval import NerDLMetrics``).

>>> metrics = NerDLMetrics(mode="full_chunk").computeMetricsFromDF(
...     predictions, prediction_col="ner", label_col="label", drop_o=True, case_sensitive=True)
>>> metrics.orderBy("entity").show()   # entity, tp, fp, fn, total, precision, recall, f1

Modes: ``full_chunk`` (an entity is right when a gold entity has exactly its tokens and type),
``partial_chunk`` (when it overlaps one of its type) and ``token`` (per tag, over tokens;
``drop_o=False`` adds the ``O`` tag's row). ``case_sensitive=False`` compares tags in upper
case. ``total`` is the gold count (tp + fn). The tag lists of each row are compared token by
token (the prediction and label columns must have one tag per token, as a tagger's and
CoNLL's do).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkner.ner.metrics import Report, Scores, evaluate_tags

MODES = ("full_chunk", "partial_chunk", "token")
COLUMNS = "entity string, tp long, fp long, fn long, total long, precision double, "
COLUMNS += "recall double, f1 double"


class NerDLMetrics:
    """Scores of a tagger's ``named_entity`` column against a gold one, per entity."""

    def __init__(self, mode: str = "full_chunk") -> None:
        if mode not in MODES:
            raise ValueError(f"NerDLMetrics: mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def computeMetricsFromDF(
        self,
        df: DataFrame,
        prediction_col: str = "ner",
        label_col: str = "label",
        drop_o: bool = True,
        case_sensitive: bool = True,
    ) -> DataFrame:
        """A DataFrame of one row per entity (or tag): entity, tp, fp, fn, total, precision,
        recall, f1."""
        for name in (prediction_col, label_col):
            if name not in df.columns:
                raise ValueError(
                    f"NerDLMetrics: column {name!r} does not exist; the DataFrame has columns "
                    f"{sorted(df.columns)}"
                )
        rows = df.select(
            F.col(f"{label_col}.result").alias("gold"),
            F.col(f"{prediction_col}.result").alias("pred"),
        ).toLocalIterator()
        gold: list[list[str]] = []
        pred: list[list[str]] = []
        for row in rows:
            gold.append(_tags(row.gold, case_sensitive))
            pred.append(_tags(row.pred, case_sensitive))
        return df.sparkSession.createDataFrame(self.metrics(gold, pred, drop_o), COLUMNS)

    def metrics(
        self, gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], drop_o: bool = True
    ) -> list[tuple[str, int, int, int, int, float, float, float]]:
        """The rows of :meth:`computeMetricsFromDF` from tag lists (one list per row)."""
        evaluation = evaluate_tags(gold, pred)
        report: Report = {
            "full_chunk": evaluation.strict,
            "partial_chunk": evaluation.relaxed,
            "token": evaluation.token,
        }[self.mode]
        by_entity = dict(report.by_type)
        if self.mode == "token" and not drop_o:
            by_entity["O"] = _o_scores(gold, pred)
        return [_row(name, scores) for name, scores in sorted(by_entity.items())]


def _tags(values: Sequence[str | None] | None, case_sensitive: bool) -> list[str]:
    tags = [v or "O" for v in values or []]
    return tags if case_sensitive else [t.upper() for t in tags]


def _o_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> Scores:
    scores = Scores()
    for g_row, p_row in zip(gold, pred, strict=True):
        for g, p in zip(g_row, p_row, strict=True):
            scores.tp += g == "O" and p == "O"
            scores.fp += g != "O" and p == "O"
            scores.fn += g == "O" and p != "O"
    return scores


def _row(name: str, s: Scores) -> tuple[str, int, int, int, int, float, float, float]:
    return (name, s.tp, s.fp, s.fn, s.tp + s.fn, s.precision, s.recall, s.f1)
