"""pipeline_udf: every stage in one Python worker, the same annotations as stage by stage."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from sparkner.fused import pipeline_udf
from sparkner.pretrained import pretrained_pipeline_model
from sparkner.resources import sample_notes


def test_same_columns_as_the_stages(spark):
    pipeline = pretrained_pipeline_model("ner_clinical")
    notes = [*sample_notes().items(), ("null", None), ("empty", "")]
    frame = spark.createDataFrame(notes, "id string, text string").repartition(3)
    run = pipeline_udf(pipeline, spark, ["token", "ner_chunk"], counts=["token", "sentence"])
    fused = frame.select("id", run(F.col("text")).alias("a")).select("id", "a.*").collect()
    staged = {
        r.id: r
        for r in pipeline.transform(frame).select("id", "token", "sentence", "ner_chunk").collect()
    }
    for row in fused:
        expected = staged[row.id]
        assert row.token == expected.token and row.ner_chunk == expected.ner_chunk
        assert row.token_count == len(expected.token)
        assert row.sentence_count == len(expected.sentence)


def test_unknown_output_column(spark):
    pipeline = pretrained_pipeline_model("ner_clinical")
    with pytest.raises(ValueError, match=r"writes no column\(s\) \['chunks'\]"):
        pipeline_udf(pipeline, spark, ["chunks"])
