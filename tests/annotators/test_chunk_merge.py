"""ChunkMergeApproach / ChunkMergeModel: NER chunks and matcher chunks merged, on Spark and in
the LightPipeline."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer
from sparkner.annotator import ChunkMergeApproach, ChunkMergeModel, RegexMatcher, TextMatcher

TEXT = "Chest pain syndrome on aspirin 81 mg."


def stages(tmp_path):
    drugs = tmp_path / "drugs.txt"
    drugs.write_text("chest pain syndrome\naspirin\n")
    return [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        TextMatcher()
        .setInputCols(["sentence", "token"])
        .setEntities(str(drugs))
        .setCaseSensitive(False)
        .setEntityValue("FINDING")
        .setOutputCol("matched"),
        RegexMatcher()
        .setRules(["\\d+ mg,DOSE", "(?i)chest pain,PROBLEM"])
        .setInputCols(["sentence"])
        .setOutputCol("regex"),
        ChunkMergeApproach()
        .setInputCols(["regex", "matched"])
        .setOutputCol("merged")
        .setSelectionStrategy("DiverseLonger"),
    ]


@pytest.mark.slow  # a Spark job
def test_merged_on_spark_and_light(spark, tmp_path):
    data = spark.createDataFrame([(TEXT,), (None,)], "text string")
    model = Pipeline(stages=stages(tmp_path)).fit(data)
    chunks = Pipeline(stages=model.stages[:-1]).fit(data).transform(data)
    assert isinstance(model.stages[-1].fit(chunks), ChunkMergeModel)
    rows = model.transform(data).collect()
    merged = [(c.result, c.metadata["entity"], c.metadata["ner_source"]) for c in rows[0].merged]
    assert merged == [
        ("Chest pain syndrome", "FINDING", "matched"),
        ("aspirin", "FINDING", "matched"),
        ("81 mg", "DOSE", "regex"),
    ]
    assert all(TEXT[c.begin : c.end + 1] == c.result for c in rows[0].merged)
    assert rows[1].merged == []
    light = LightPipeline(model).fullAnnotate(TEXT)[0]["merged"]
    assert [(c.result, c.metadata) for c in light] == [
        (c.result, dict(c.metadata)) for c in rows[0].merged
    ]


def test_sequential_and_replacements(tmp_path):
    *text_stages, merge = stages(tmp_path)
    replace = tmp_path / "replace.txt"
    replace.write_text("FINDING,CLINICAL\n")
    merge.setSelectionStrategy("Sequential").setReplaceDictResource(str(replace))
    light = LightPipeline([*text_stages, merge]).fullAnnotate(TEXT)[0]["merged"]
    assert [(c.result, c.metadata["entity"]) for c in light] == [
        ("Chest pain", "PROBLEM"),
        ("aspirin", "CLINICAL"),
        ("81 mg", "DOSE"),
    ]
