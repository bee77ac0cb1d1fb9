"""NerDLMetrics: per-entity rows in the shape of Spark NLP's."""

from __future__ import annotations

import pytest
from pyspark.sql.types import StructField, StructType

from sparkner.core.annotation import NAMED_ENTITY
from sparkner.core.spark_types import ANNOTATIONS_SPARK_TYPE
from sparkner.evaluation import NerDLMetrics

GOLD = [["B-PROBLEM", "I-PROBLEM", "O", "B-TEST"], ["B-DRUG", "O"]]
PRED = [["B-PROBLEM", "O", "O", "B-TEST"], ["B-DRUG", "B-test"]]


def test_modes_count_as_their_names_say():
    full = {r[0]: r[1:5] for r in NerDLMetrics("full_chunk").metrics(GOLD, PRED)}
    assert full == {
        "DRUG": (1, 0, 0, 1),
        "PROBLEM": (0, 1, 1, 1),
        "TEST": (1, 0, 0, 1),
        "test": (0, 1, 0, 0),
    }
    partial = {r[0]: r[1:4] for r in NerDLMetrics("partial_chunk").metrics(GOLD, PRED)}
    assert partial["PROBLEM"] == (1, 0, 0)
    token = {r[0]: r[1:4] for r in NerDLMetrics("token").metrics(GOLD, PRED, drop_o=False)}
    assert token["O"] == (1, 1, 1) and token["I-PROBLEM"] == (0, 0, 1)
    with pytest.raises(ValueError, match="mode must be one of"):
        NerDLMetrics("exact")


@pytest.mark.slow  # a Spark job
def test_compute_metrics_from_a_dataframe(spark):
    def tags(rows):
        return [
            [
                {"annotatorType": NAMED_ENTITY, "begin": i, "end": i, "result": t,
                 "metadata": {}, "embeddings": []}
                for i, t in enumerate(row)
            ]
            for row in rows
        ]  # fmt: skip

    schema = StructType(
        [StructField("label", ANNOTATIONS_SPARK_TYPE), StructField("ner", ANNOTATIONS_SPARK_TYPE)]
    )
    frame = spark.createDataFrame(list(zip(tags(GOLD), tags(PRED), strict=True)), schema)
    metrics = NerDLMetrics(mode="full_chunk").computeMetricsFromDF(
        frame, prediction_col="ner", label_col="label", drop_o=True, case_sensitive=False
    )
    assert metrics.columns == ["entity", "tp", "fp", "fn", "total", "precision", "recall", "f1"]
    rows = {r.entity: r for r in metrics.collect()}
    assert rows["TEST"].tp == 1 and rows["TEST"].fp == 1  # "test" counted as TEST
    assert rows["DRUG"].f1 == 1.0 and rows["PROBLEM"].recall == 0.0
    with pytest.raises(ValueError, match="column 'gold' does not exist"):
        NerDLMetrics().computeMetricsFromDF(frame, label_col="gold")
