"""Finisher and EmbeddingsFinisher: Spark NLP's output formats, in Spark SQL."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.linalg import DenseVector

from sparkner import (
    DocumentAssembler,
    EmbeddingsFinisher,
    Finisher,
    LightPipeline,
    SentenceDetector,
    Tokenizer,
    WordEmbeddings,
)
from sparkner.stages.stage import AnnotatorInputError


@pytest.fixture(scope="module")
def annotated(spark, tmp_path_factory):
    vectors = tmp_path_factory.mktemp("vectors") / "v.txt"
    vectors.write_text("chest 1 2\npain 3 4\n")
    stages = [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        WordEmbeddings().setStoragePath(str(vectors), "TEXT"),
    ]
    frame = spark.createDataFrame(
        [(1, "Chest pain. No fever."), (2, None), (3, "")], "id int, text string"
    )
    model = Pipeline(stages=stages).fit(frame)
    return model, model.transform(frame).orderBy("id").cache()


@pytest.mark.slow
def test_default_is_arrays_of_results_and_drops_every_annotation_column(annotated):
    _, frame = annotated
    out = Finisher().setInputCols("token").transform(frame)
    assert out.columns == ["id", "text", "finished_token"]  # document, sentence, ... dropped
    assert [r.finished_token for r in out.collect()] == [
        ["Chest", "pain", ".", "No", "fever", "."],
        [],
        [],
    ]


def test_keep_annotations_and_name_the_outputs(annotated):
    _, frame = annotated
    finisher = Finisher(
        inputCols=["sentence", "token"], outputCols=["sents", "toks"], cleanAnnotations=False
    )
    out = finisher.transform(frame)
    assert out.columns == [*frame.columns, "sents", "toks"]
    assert out.first().sents == ["Chest pain.", "No fever."]


def test_strings_with_and_without_metadata(annotated):
    _, frame = annotated
    plain = Finisher().setInputCols(["sentence"]).setOutputAsArray(False).transform(frame)
    assert [r.finished_sentence for r in plain.collect()] == ["Chest pain.@No fever.", "", ""]
    detail = (
        Finisher()
        .setInputCols(["sentence"])
        .setOutputAsArray(False)
        .setIncludeMetadata(True)
        .setValueSplitSymbol("|")
        .setAnnotationSplitSymbol(" ## ")
        .transform(frame)
    )
    assert "finished_sentence_metadata" not in detail.columns  # in the string, as in Spark NLP
    assert detail.first().finished_sentence == (
        "sentence->0|result->Chest pain. ## sentence->1|result->No fever."
    )


def test_metadata_of_arrays_is_one_merged_map(annotated):
    _, frame = annotated
    out = Finisher().setInputCols(["token"]).setIncludeMetadata(True).transform(frame)
    rows = out.collect()
    # As Spark NLP: all annotations' metadata in one map, the last value of a key winning.
    assert rows[0].finished_token_metadata == {"sentence": "1"}
    assert rows[1].finished_token_metadata == {}


def test_parse_embeddings_vectors(annotated):
    _, frame = annotated
    out = Finisher().setInputCols(["embeddings"]).setParseEmbeddingsVectors(True).transform(frame)
    assert out.first().finished_embeddings[:2] == ["1.0 2.0", "3.0 4.0"]


def test_bad_inputs_are_refused(annotated):
    _, frame = annotated
    with pytest.raises(AnnotatorInputError, match="'nope' does not exist"):
        Finisher().setInputCols(["nope"]).transform(frame)
    with pytest.raises(AnnotatorInputError, match="Spark type string"):
        Finisher().setInputCols(["text"]).transform(frame)
    with pytest.raises(AnnotatorInputError, match="same length"):
        Finisher().setInputCols(["token"]).setOutputCols(["a", "b"]).transform(frame)
    with pytest.raises(AnnotatorInputError, match="holds 'token' annotations"):
        EmbeddingsFinisher().setInputCols(["token"]).transform(frame)


def test_embeddings_as_arrays_and_as_vectors(annotated):
    _, frame = annotated
    arrays = EmbeddingsFinisher().setInputCols(["embeddings"]).transform(frame)
    assert arrays.columns == ["id", "text", "finished_embeddings"]
    assert dict(arrays.dtypes)["finished_embeddings"] == "array<array<float>>"
    first = arrays.first().finished_embeddings
    assert first[:2] == [[1.0, 2.0], [3.0, 4.0]] and first[2] == [0.0, 0.0]
    vectors = (
        EmbeddingsFinisher()
        .setInputCols("embeddings")
        .setOutputCols("vectors")
        .setOutputAsVector(True)
        .setCleanAnnotations(False)
        .transform(frame)
    )
    assert "embeddings" in vectors.columns
    rows = vectors.collect()
    assert rows[0].vectors[1] == DenseVector([3.0, 4.0]) and rows[1].vectors == []


@pytest.mark.slow
def test_a_pipeline_with_finishers_saves_loads_and_runs_in_a_light_pipeline(annotated, tmp_path):
    model, frame = annotated
    finished = PipelineModel(
        [
            *model.stages,
            Finisher().setInputCols(["token"]).setCleanAnnotations(False),
            EmbeddingsFinisher().setInputCols(["embeddings"]),
        ]
    )
    finished.write().save(str(tmp_path / "p"))
    loaded = PipelineModel.load(str(tmp_path / "p"))
    assert loaded.transform(frame).columns == [
        "id",
        "text",
        "finished_token",
        "finished_embeddings",
    ]
    light = LightPipeline(loaded)  # the finishers are skipped, as in Spark NLP
    assert light.annotate("Chest pain.")["token"] == ["Chest", "pain", "."]
    vectors = LightPipeline(loaded, parse_embeddings=True).fullAnnotate("Chest pain.")
    assert vectors[0]["embeddings"][0].embeddings == [1.0, 2.0]
