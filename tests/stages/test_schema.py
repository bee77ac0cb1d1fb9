"""transformSchema on every stage: the schema ``transform`` gives (names, types, nullability
and column metadata, the vectors' records included), computed without Spark, and the same
errors for bad inputs."""

from __future__ import annotations

import pytest
from pyspark.ml import PipelineModel
from pyspark.sql import functions as F

from sparkner import (
    EmbeddingsFinisher,
    Finisher,
    LexiconMatcher,
    NerDLApproach,
    NerDLModel,
    WordEmbeddings,
    WordEmbeddingsModel,
)
from sparkner.apps.pretrained import pretrained_pipeline_model
from sparkner.resources import sample_notes
from sparkner.stages.stage import AnnotatorInputError, pipeline_schema

PIPELINES = ["ner_clinical", "ner_bc5cdr"]


def described(schema) -> list[tuple]:
    return [(f.name, f.dataType, f.nullable, f.metadata) for f in schema.fields]


@pytest.fixture(scope="module")
def notes(spark):
    return spark.createDataFrame(list(sample_notes().items()), "id string, text string")


@pytest.fixture(scope="module")
def annotated(notes):
    return pretrained_pipeline_model("ner_clinical").transform(notes)


@pytest.mark.parametrize("name", PIPELINES)
def test_every_stage_of_the_bundled_pipelines(notes, name):
    pipeline = pretrained_pipeline_model(name)
    frame = notes
    for stage in pipeline.stages:
        expected = stage.transformSchema(frame.schema)
        frame = stage.transform(frame)
        assert described(expected) == described(frame.schema), type(stage).__name__
    assert described(pipeline_schema(pipeline.stages, notes.schema)) == described(frame.schema)
    metadata = pipeline_schema(pipeline.stages, notes.schema)["embeddings"].metadata
    assert {"ref", "dimension", "sparknerLookup"} <= set(metadata)


def test_a_column_replaced_where_it_stands(notes):
    pipeline = pretrained_pipeline_model("ner_clinical")
    frame = notes.withColumn("token", F.lit(1)).withColumn("NER", F.lit("x"))
    expected = pipeline_schema(pipeline.stages, frame.schema)
    assert described(expected) == described(pipeline.transform(frame).schema)
    assert expected.names[:4] == ["id", "text", "token", "ner"]


FINISHERS = {
    "results": lambda: Finisher().setInputCols(["ner_chunk", "token"]),
    "metadata": lambda: Finisher().setInputCols(["ner_chunk"]).setIncludeMetadata(True),
    "strings": lambda: (
        Finisher()
        .setInputCols(["ner_chunk", "embeddings"])
        .setOutputAsArray(False)
        .setIncludeMetadata(True)
        .setParseEmbeddingsVectors(True)
    ),
    "vectors as text, kept": lambda: (
        Finisher()
        .setInputCols(["embeddings"])
        .setParseEmbeddingsVectors(True)
        .setCleanAnnotations(False)
    ),
    "named outputs": lambda: Finisher().setInputCols(["token"]).setOutputCols(["ner"]),
    "embeddings": lambda: EmbeddingsFinisher().setInputCols(["embeddings"]),
    "vectors": lambda: (
        EmbeddingsFinisher()
        .setInputCols(["embeddings"])
        .setOutputAsVector(True)
        .setCleanAnnotations(False)
    ),
}


@pytest.mark.parametrize("name", list(FINISHERS))
def test_finishers(annotated, name):
    finisher = FINISHERS[name]()
    expected = finisher.transformSchema(annotated.schema)
    assert described(expected) == described(finisher.transform(annotated).schema)


@pytest.fixture(scope="module")
def read_back(spark, annotated, tmp_path_factory):
    """The annotated notes written to Parquet and read back: an annotation column's nested
    fields may then all be nullable."""
    path = str(tmp_path_factory.mktemp("annotated") / "annotated.parquet")
    annotated.limit(1).write.parquet(path)
    return spark.read.parquet(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FINISHERS))
def test_finishers_of_columns_read_back_from_parquet(read_back, name):
    finisher = FINISHERS[name]()
    expected = finisher.transformSchema(read_back.schema)
    assert described(expected) == described(finisher.transform(read_back).schema)


def _errors(stage, frame) -> tuple[str, str]:
    with pytest.raises(AnnotatorInputError) as by_schema:
        stage.transformSchema(frame.schema)
    with pytest.raises(AnnotatorInputError) as by_transform:
        stage.transform(frame)
    return str(by_schema.value), str(by_transform.value)


def _stage(name: str):
    pipeline = pretrained_pipeline_model("ner_clinical")
    return next(s for s in pipeline.stages if type(s).__name__ == name)


BAD_INPUTS = {
    "no text column": ("DocumentAssembler", lambda f: f.drop("text"), "'text' does not exist"),
    "text not a string": (
        "DocumentAssembler",
        lambda f: f.withColumn("text", F.lit(1)),
        "expected string",
    ),
    "not annotations": (
        "Tokenizer",
        lambda f: f.withColumn("sentence", F.lit("x")),
        "expected an annotation column",
    ),
    "wrong annotator type": (
        "NerConverter",
        lambda f: f.withColumn(
            "ner", F.col("token").alias("ner", metadata={"annotatorType": "token"})
        ),
        "holds 'token' annotations, expected 'named_entity'",
    ),
    "other vectors": (
        "NerDLModel",
        lambda f: f.withColumn(
            "embeddings",
            F.col("embeddings").alias(
                "embeddings", metadata={"annotatorType": "word_embeddings", "ref": "other"}
            ),
        ),
        "holds word embeddings 'other', but this stage was trained with",
    ),
    "other dimension": (
        "NerDLModel",
        lambda f: f.withColumn(
            "embeddings",
            F.col("embeddings").alias(
                "embeddings", metadata={"annotatorType": "word_embeddings", "dimension": 3}
            ),
        ),
        "holds 3-dimensional word embeddings",
    ),
    "no lexicon": ("NerDLModel", lambda f: f.drop("lexicon"), "'lexicon' does not exist"),
    "finisher of no column": ("Finisher", lambda f: f.drop("ner_chunk"), "does not exist"),
    "embeddings finisher of tokens": (
        "EmbeddingsFinisher",
        lambda f: f,
        "'token' holds 'token' annotations, expected word or sentence embeddings",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs_are_refused_alike(annotated, case):
    name, change, message = BAD_INPUTS[case]
    if name == "Finisher":
        stage = Finisher().setInputCols(["ner_chunk"])
    elif name == "EmbeddingsFinisher":
        stage = EmbeddingsFinisher().setInputCols(["token"])
    else:
        stage = _stage(name)
    by_schema, by_transform = _errors(stage, change(annotated))
    assert by_schema == by_transform and message in by_schema


def test_input_counts_are_refused_alike_and_three_inputs_need_no_lexicon(annotated):
    tagger = _stage("NerDLModel")
    # A tagger trained with term-list features matches the terms itself (issue 29).
    three = tagger.copy().setInputCols(["sentence", "token", "embeddings"]).setOutputCol("ner3")
    expected = three.transformSchema(annotated.schema)
    assert described(expected) == described(three.transform(annotated).schema)
    five = tagger.copy().setInputCols(["sentence", "token", "embeddings", "lexicon", "token"])
    by_schema, by_transform = _errors(five, annotated)
    assert by_schema == by_transform and "has 5 columns, expected 3" in by_schema


def test_a_model_without_files_is_refused_alike(annotated):
    with pytest.raises(ValueError, match="has no tagger") as by_schema:
        NerDLModel().setInputCols(["sentence", "token", "embeddings"]).transformSchema(
            annotated.schema
        )
    with pytest.raises(ValueError, match="has no tagger") as by_transform:
        NerDLModel().setInputCols(["sentence", "token", "embeddings"]).transform(annotated)
    assert str(by_schema.value) == str(by_transform.value)


def test_approaches_check_inputs_and_name_the_output(annotated, notes, tmp_path):
    """An approach's transformSchema: the fitted model's output column (its annotator type)
    and the input checks its fit makes first."""
    for approach, output, kind in [
        (WordEmbeddings(), "embeddings", "word_embeddings"),
        (LexiconMatcher(), "lexicon", "lexicon"),
        # the annotated frame's tags stand in for gold labels (transformSchema checks them)
        (NerDLApproach().setLabelColumn("ner").setOutputCol("tags"), "tags", "named_entity"),
    ]:
        schema = approach.transformSchema(annotated.schema)
        assert schema[output].metadata == {"annotatorType": kind}
        assert schema[output].dataType == annotated.schema["ner"].dataType
        with pytest.raises(AnnotatorInputError, match="does not exist"):
            approach.transformSchema(notes.schema)
    fitted = WordEmbeddingsModel.pretrained()
    schema = fitted.transformSchema(annotated.drop("embeddings").schema)
    assert schema["embeddings"].metadata["ref"] == fitted.getStorageRef()


def test_pipeline_schema_needs_no_spark_job(spark, notes):
    pipeline = pretrained_pipeline_model("ner_clinical")
    context = spark.sparkContext
    context.setJobGroup("schema-only", "transformSchema over a pipeline")
    try:
        schema = pipeline_schema(pipeline.stages, notes.schema)
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    assert context.statusTracker().getJobIdsForGroup("schema-only") == []
    assert described(schema) == described(PipelineModel(pipeline.stages).transform(notes).schema)
