"""pipeline_udf: every stage in one Python worker, the same annotations as stage by stage."""

from __future__ import annotations

import pytest
from pyspark.ml import PipelineModel
from pyspark.sql import functions as F

from sparkner import Finisher
from sparkner.apps.pretrained import PretrainedPipeline, pretrained_pipeline_model
from sparkner.resources import sample_notes
from sparkner.runtime.fused import can_fuse, fused_transform, pipeline_udf
from sparkner.stages.stage import AnnotatorInputError, AnnotatorStage, pipeline_schema

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow


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


# -- fused_transform: PipelineModel.transform in fewer trips -------------------------------
def _analyzed_plan(frame) -> str:
    """The optimized plan (what Spark will run), as text."""
    return frame._jdf.queryExecution().optimizedPlan().toString()


def test_fused_transform_is_the_stage_path(spark):
    pipeline = pretrained_pipeline_model("ner_clinical")
    notes = [*sample_notes().items(), ("null", None), ("empty", "")]
    frame = spark.createDataFrame(notes, "id string, text string").repartition(3)
    staged, fused = pipeline.transform(frame), fused_transform(pipeline, frame)
    # The same schema, with each column's metadata (annotator type, the vectors' record) ...
    assert fused.schema == staged.schema
    assert [f.metadata for f in fused.schema] == [f.metadata for f in staged.schema]
    # ... and the same rows, every column.
    assert sorted(fused.collect()) == sorted(staged.collect())
    # A stage added after it reads its columns as it reads the stage path's.
    chunks_only = Finisher().setInputCols(["ner_chunk"]).transform(fused)
    assert chunks_only.select("finished_ner_chunk").count() == len(notes)


def test_fused_transform_runs_only_what_the_selected_columns_need(spark):
    pipeline = pretrained_pipeline_model("ner_clinical")
    frame = spark.createDataFrame(list(sample_notes().items()), "id string, text string")
    plan = _analyzed_plan(fused_transform(pipeline, frame).select("id", "ner_chunk"))
    assert plan.count("SparknerPipeline") == 1  # one UDF: the tagger's group, no embeddings
    everything = _analyzed_plan(fused_transform(pipeline, frame))
    # document, sentence, token, embeddings, lexicon, section: one UDF each; ner, chunks,
    # assertions: one.
    assert everything.count("SparknerPipeline(") == 7


def test_pretrained_pipeline_transform_is_fused(spark):
    frame = spark.createDataFrame(list(sample_notes().items()), "id string, text string")
    transformed = PretrainedPipeline("ner_clinical_pipeline").transform(frame)
    assert "SparknerPipeline" in _analyzed_plan(transformed.select("ner_chunk"))
    # With a finisher, a pipeline is transformed stage by stage (finishers are Spark-only).
    staged = PipelineModel(
        [*pretrained_pipeline_model("ner_clinical").stages, Finisher().setInputCols(["ner_chunk"])]
    )
    assert not can_fuse(staged)


def test_fused_transform_refuses_what_the_stage_path_refuses(spark):
    pipeline = pretrained_pipeline_model("ner_clinical")
    frame = spark.createDataFrame([("1", "x")], "id string, note string")
    with pytest.raises(Exception, match="text"):
        fused_transform(pipeline, frame)


def test_checks_and_schema_come_from_transform_schema(spark, monkeypatch):
    """No stage transforms an empty DataFrame to be checked or to tell its schema (a round
    trip to the server each over Spark Connect): transformSchema does both."""
    pipeline = pretrained_pipeline_model("ner_clinical")
    frame = spark.createDataFrame(list(sample_notes().items()), "id string, text string")

    def refuse(*args, **kwargs):
        raise AssertionError("an empty DataFrame was made or transformed")

    monkeypatch.setattr(type(spark), "createDataFrame", refuse)
    monkeypatch.setattr(type(frame), "limit", refuse)
    monkeypatch.setattr(PipelineModel, "_transform", refuse)
    monkeypatch.setattr(AnnotatorStage, "_transform", refuse)
    pipeline_udf(pipeline, spark, ["ner_chunk"])
    fused = fused_transform(pipeline, frame)
    assert fused.schema == pipeline_schema(pipeline.stages, frame.schema)
    with pytest.raises(AnnotatorInputError, match="'text' does not exist"):
        fused_transform(pipeline, frame.withColumnRenamed("text", "note"))
