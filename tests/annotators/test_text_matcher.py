"""TextMatcher: phrases from a file, on Spark and in the LightPipeline, saved and loaded."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline, PipelineModel

from sparkner import DocumentAssembler, LightPipeline, ReadAs, Tokenizer
from sparkner.annotator import TextMatcher, TextMatcherModel

TEXT = "Chest pain on aspirin. CHEST PAIN again."


@pytest.fixture
def phrases(tmp_path):
    path = tmp_path / "entities.txt"
    path.write_text("chest pain\naspirin\n")
    return str(path)


def matcher(path: str) -> TextMatcher:
    return (
        TextMatcher()
        .setInputCols(["document", "token"])
        .setOutputCol("entity")
        .setEntities(path, ReadAs.TEXT)
        .setCaseSensitive(False)
        .setEntityValue("FINDING")
    )


@pytest.mark.slow  # a Spark job
def test_same_chunks_on_spark_and_in_the_light_pipeline(spark, phrases, tmp_path):
    stages = [DocumentAssembler(), Tokenizer().setInputCols(["document"]), matcher(phrases)]
    data = spark.createDataFrame([(TEXT,), ("",), (None,)], "text string")
    model = Pipeline(stages=stages).fit(data)
    fitted = matcher(phrases).fit(Pipeline(stages=stages[:2]).fit(data).transform(data))
    assert isinstance(fitted, TextMatcherModel)
    assert fitted.getPhrases() == ["chest pain", "aspirin"]
    rows = model.transform(data).collect()
    spark_chunks = [[(c.begin, c.end, c.result, dict(c.metadata)) for c in r.entity] for r in rows]
    light = LightPipeline(model).fullAnnotate([TEXT, "", None])
    assert spark_chunks == [
        [(c.begin, c.end, c.result, c.metadata) for c in r["entity"]] for r in light
    ]
    assert [c[2] for c in spark_chunks[0]] == ["Chest pain", "aspirin", "CHEST PAIN"]
    assert {c[3]["entity"] for c in spark_chunks[0]} == {"FINDING"}
    model.write().save(str(tmp_path / "model"))
    loaded = PipelineModel.load(str(tmp_path / "model"))  # the phrases travel with it
    assert loaded.stages[-1].getPhrases() == ["chest pain", "aspirin"]
    assert LightPipeline(loaded).annotate(TEXT)["entity"] == [c[2] for c in spark_chunks[0]]


def test_case_sensitive_by_default_and_bad_files(phrases, tmp_path):
    light = LightPipeline(
        [
            DocumentAssembler(),
            Tokenizer().setInputCols(["document"]),
            matcher(phrases).setCaseSensitive(True),
        ]
    )
    assert light.annotate(TEXT)["entity"] == ["aspirin"]
    with pytest.raises(FileNotFoundError, match="no such entities file"):
        TextMatcher().setEntities(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=r"read_as must be ReadAs\.TEXT"):
        TextMatcher().setEntities(phrases, ReadAs.BINARY)
