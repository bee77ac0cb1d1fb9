"""The pipeline the annotate job runs: all its stages in one UDF, or stage by stage alike."""

from __future__ import annotations

import pytest
from annotate_support import write_notes

import sparkner.apps.annotate.pipeline as pipeline_module
from sparkner.apps.annotate import AnnotateJob, annotate, chunks_and_token_counts, load_pipeline

# Spark jobs: the full suite runs these.
pytestmark = pytest.mark.slow


def test_one_udf_for_the_pipeline_same_table_as_stage_by_stage(spark, tmp_path, monkeypatch):
    source = write_notes(tmp_path, "parquet")
    tables = {}
    for fused in (True, False):
        monkeypatch.setattr(pipeline_module, "has_arrow_udf", lambda fused=fused: fused)
        out = str(tmp_path / f"out-{fused}")
        summary = annotate(
            spark, AnnotateJob(source, out, text_col="note", id_col="note_id"), progress=None
        )
        tables[fused] = (summary.tokens, sorted(map(tuple, spark.read.parquet(out).collect())))
    assert tables[True] == tables[False] and tables[True][1]
    # The whole pipeline is one UDF, evaluated once per row.
    pipeline = load_pipeline("ner_clinical")
    notes = spark.read.parquet(source)
    monkeypatch.setattr(pipeline_module, "has_arrow_udf", lambda: True)
    frame = chunks_and_token_counts(spark, pipeline, notes, "note", "note_id")
    plan = frame._jdf.queryExecution().executedPlan().toString()
    assert plan.count("SparknerPipeline(") == 1 and "NerDLModel" not in plan
