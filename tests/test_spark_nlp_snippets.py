"""Spark NLP code runs unchanged but for its imports.

Each test is a snippet written the way Spark NLP's documentation writes them; only the
imports differ: ``from sparkner.base import *`` for ``from sparknlp.base import *``,
``from sparkner.annotator import *`` for ``from sparknlp.annotator import *`` (and for Spark
NLP for Healthcare's ``from sparknlp_jsl.annotator import *``), ``import sparkner`` and
``spark = sparkner.start()`` for ``sparknlp.start()`` (``sparkner.start(SECRET)`` for
``sparknlp_jsl.start(SECRET)``). The first is the ``ner_clinical`` model card's pipeline, as
written there. One SparkSession (the ``spark`` fixture, which ``sparkner.start()`` returns
again), small data.
"""

# ruff: noqa: F403, F405
from __future__ import annotations

import warnings

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.linalg import DenseVector
from tests_support import write_tiny_conll

import sparkner
from sparkner.annotator import *
from sparkner.apps.pretrained import PretrainedPipeline
from sparkner.base import *
from sparkner.training import CoNLL

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow

TEXT = "The patient had chest pain and fever. A chest CT showed pneumonia; started ceftriaxone."


@pytest.fixture(scope="module")
def ner_pipeline(spark):
    spark = sparkner.start()
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    sentenceDetector = SentenceDetector().setInputCols(["document"]).setOutputCol("sentence")
    tokenizer = Tokenizer().setInputCols(["sentence"]).setOutputCol("token")
    embeddings = (
        WordEmbeddingsModel.pretrained("embeddings_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token"])
        .setOutputCol("embeddings")
    )
    ner = (
        NerDLModel.pretrained("ner_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token", "embeddings"])
        .setOutputCol("ner")
    )
    nerConverter = (
        NerConverter().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk")
    )
    finisher = Finisher().setInputCols(["ner_chunk"]).setCleanAnnotations(False)
    pipeline = Pipeline().setStages(
        [
            documentAssembler,
            sentenceDetector,
            tokenizer,
            embeddings,
            ner,
            nerConverter,
            finisher,
        ]
    )
    data = spark.createDataFrame([[TEXT]]).toDF("text")
    return pipeline.fit(data), data


def test_ner_pipeline_with_finisher(ner_pipeline):
    model, data = ner_pipeline
    result = model.transform(data)
    row = result.selectExpr("finished_ner_chunk", "ner_chunk.metadata AS metadata").first()
    assert {"fever", "pneumonia", "ceftriaxone"} <= set(row.finished_ner_chunk)
    assert {m["entity"] for m in row.metadata} <= {"PROBLEM", "TEST", "TREATMENT"}


def test_light_pipeline_annotate_and_full_annotate(ner_pipeline):
    model, _ = ner_pipeline
    light = LightPipeline(model)  # the Finisher at the end is skipped, as in Spark NLP
    annotations = light.annotate(TEXT)
    assert "fever" in annotations["ner_chunk"]
    assert "finished_ner_chunk" not in annotations
    many = light.annotate([TEXT, "No fever."])
    assert isinstance(many, list) and len(many) == 2
    full = light.fullAnnotate(TEXT)
    assert isinstance(full, list) and len(full) == 1
    chunk = next(c for c in full[0]["ner_chunk"] if c.result == "fever")
    assert TEXT[chunk.begin : chunk.end + 1] == "fever"
    assert chunk.metadata["entity"] == "PROBLEM"
    assert "confidence" not in chunk.metadata  # includeConfidence is off: no key, no null


def test_light_pipeline_transform_runs_the_whole_pipeline(ner_pipeline, spark):
    model, _ = ner_pipeline
    data = spark.createDataFrame([["Chest pain."]]).toDF("text")
    result = LightPipeline(model).transform(data)
    assert "finished_ner_chunk" in result.columns


def test_pretrained_pipeline(spark):
    pipeline = PretrainedPipeline("ner_clinical_pipeline", lang="en")
    annotations = pipeline.fullAnnotate("She denies chest pain.")[0]
    assert [
        (c.result, a.result)
        for c, a in zip(annotations["ner_chunk"], annotations["assertion"], strict=True)
    ] == [("chest pain", "absent")]
    assert pipeline.annotate("She denies chest pain.")["ner_chunk"] == ["chest pain"]


def test_tokenizer_is_fitted(spark, tmp_path):
    exceptions = tmp_path / "exceptions.txt"
    exceptions.write_text("St. Jude\nCOVID-19 PCR\n")
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = (
        Tokenizer()
        .setInputCols(["document"])
        .setOutputCol("token")
        .setExceptionsPath(str(exceptions), ReadAs.TEXT)
    )
    data = spark.createDataFrame([["Seen at St. Jude for a COVID-19 PCR."]]).toDF("text")
    document = documentAssembler.transform(data)
    tokenizerModel = tokenizer.fit(document)
    assert isinstance(tokenizerModel, TokenizerModel)
    tokens = tokenizerModel.transform(document).selectExpr("token.result").first()[0]
    assert "St. Jude" in tokens and "COVID-19 PCR" in tokens


def test_embeddings_finisher_for_spark_ml(spark):
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = Tokenizer().setInputCols(["document"]).setOutputCol("token")
    embeddings = (
        WordEmbeddingsModel.pretrained()
        .setInputCols(["document", "token"])
        .setOutputCol("embeddings")
    )
    embeddingsFinisher = (
        EmbeddingsFinisher()
        .setInputCols(["embeddings"])
        .setOutputCols("finished_embeddings")
        .setOutputAsVector(True)
        .setCleanAnnotations(False)
    )
    pipeline = Pipeline().setStages([documentAssembler, tokenizer, embeddings, embeddingsFinisher])
    data = spark.createDataFrame([["Chest pain and fever."]]).toDF("text")
    result = pipeline.fit(data).transform(data)
    vectors = result.selectExpr("explode(finished_embeddings) as result").collect()
    assert len(vectors) == 5
    assert isinstance(vectors[0].result, DenseVector) and len(vectors[0].result) == 200


def test_embeddings_coverage(spark):
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = Tokenizer().setInputCols(["document"]).setOutputCol("token")
    embeddings = WordEmbeddingsModel.pretrained().setInputCols(["document", "token"])
    data = spark.createDataFrame([["Chest pain qzxqzxqzx."]]).toDF("text")
    result = Pipeline(stages=[documentAssembler, tokenizer, embeddings]).fit(data).transform(data)
    coverage = WordEmbeddingsModel.overallCoverage(result, "embeddings")
    assert (coverage.covered, coverage.total) == (3, 4)
    assert coverage.percentage == pytest.approx(0.75)
    per_row = WordEmbeddingsModel.withCoverageColumn(result, "embeddings", "cov")
    assert per_row.select("cov.covered", "cov.total").first() == (3, 4)


def test_word_embeddings_from_a_text_file(spark, tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("chest 0.1 0.2 0.3\npain 0.4 0.5 0.6\n")
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = Tokenizer().setInputCols(["document"]).setOutputCol("token")
    embeddings = (
        WordEmbeddings()
        .setStoragePath(str(vectors), ReadAs.TEXT)
        .setStorageRef("my_vectors")
        .setDimension(3)
        .setInputCols(["document", "token"])
        .setOutputCol("embeddings")
    )
    data = spark.createDataFrame([["Chest pain."]]).toDF("text")
    model = Pipeline(stages=[documentAssembler, tokenizer, embeddings]).fit(data)
    found = model.transform(data).selectExpr("embeddings.embeddings").first()[0]
    assert found[1] == pytest.approx([0.4, 0.5, 0.6])


def test_train_ner_dl_on_conll(spark, tmp_path):
    path = write_tiny_conll(tmp_path / "train.conll", sentences=40)
    training_data = CoNLL().readDataset(spark, str(path))
    embeddings = (
        WordEmbeddingsModel.pretrained()
        .setInputCols(["sentence", "token"])
        .setOutputCol("embeddings")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # graphFolder has no effect in sparkner (warned)
        nerTagger = (
            NerDLApproach()
            .setInputCols(["sentence", "token", "embeddings"])
            .setLabelColumn("label")
            .setOutputCol("ner")
            .setMaxEpochs(1)
            .setLr(0.003)
            .setBatchSize(8)
            .setRandomSeed(0)
            .setVerbose(0)
            .setGraphFolder(str(tmp_path))
        )
    pipeline = Pipeline().setStages([embeddings, nerTagger])
    model = pipeline.fit(training_data)
    assert set(model.stages[-1].getClasses()) == {"O", "B-Disease", "I-Disease"}
    assert "pos" in training_data.columns


def test_ner_converter_and_classes():
    ner = NerDLModel.pretrained("ner_clinical")
    assert "B-PROBLEM" in ner.getClasses()
    converter = NerConverter().setInputCols(["sentence", "token", "ner"])
    assert converter.setPreservePosition(True).getPreservePosition() is True
    assert sparkner.version() == sparkner.__version__


def test_finisher_as_strings_with_metadata(spark):
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = Tokenizer().setInputCols(["document"]).setOutputCol("token")
    finisher = (
        Finisher()
        .setInputCols(["token"])
        .setOutputCols(["tokens"])
        .setOutputAsArray(False)
        .setIncludeMetadata(True)
        .setAnnotationSplitSymbol("@")
        .setValueSplitSymbol("#")
    )
    data = spark.createDataFrame([["Chest pain"]]).toDF("text")
    result = Pipeline(stages=[documentAssembler, tokenizer, finisher]).fit(data).transform(data)
    assert result.columns == ["text", "tokens"]  # cleanAnnotations drops annotation columns
    assert result.first().tokens == "sentence->0#result->Chest@sentence->0#result->pain"


def test_healthcare_ner_and_assertion(spark):
    spark = sparkner.start(SECRET)  # sparknlp_jsl.start(SECRET): no license needed, ignored
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    sentenceDetector = SentenceDetector().setInputCols(["document"]).setOutputCol("sentence")
    tokenizer = Tokenizer().setInputCols(["sentence"]).setOutputCol("token")
    word_embeddings = (
        WordEmbeddingsModel.pretrained("embeddings_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token"])
        .setOutputCol("embeddings")
    )
    clinical_ner = (
        MedicalNerModel.pretrained("ner_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token", "embeddings"])
        .setOutputCol("ner")
    )
    ner_converter = (
        NerConverterInternal().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk")
    )
    clinical_assertion = (
        AssertionDLModel.pretrained("assertion_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "ner_chunk", "embeddings"])
        .setOutputCol("assertion")
    )
    nlpPipeline = Pipeline(
        stages=[
            documentAssembler,
            sentenceDetector,
            tokenizer,
            word_embeddings,
            clinical_ner,
            ner_converter,
            clinical_assertion,
        ]
    )
    data = spark.createDataFrame([["She denies chest pain. Fever since Monday."]]).toDF("text")
    model = nlpPipeline.fit(data)
    row = model.transform(data).select("ner_chunk.result", "assertion.result").first()
    assert list(zip(row[0], row[1], strict=True)) == [
        ("chest pain", "absent"),
        ("Fever", "present"),
    ]
    light = LightPipeline(model).annotate("She denies chest pain.")
    assert (light["ner_chunk"], light["assertion"]) == (["chest pain"], ["absent"])


SECRET = "5.5.1-0a1b2c3d4e5f60718293a4b5c6d7e8f9012345ab"


def test_spark_nlp_modules_have_their_counterparts():
    import sparkner.annotator
    import sparkner.base
    import sparkner.common
    import sparkner.training

    assert {"DocumentAssembler", "LightPipeline", "Finisher", "EmbeddingsFinisher"} <= set(
        sparkner.base.__all__
    )
    assert {
        "Tokenizer",
        "TokenizerModel",
        "SentenceDetector",
        "WordEmbeddings",
        "WordEmbeddingsModel",
        "NerDLApproach",
        "NerDLModel",
        "NerConverter",
        "AssertionModel",
        "LexiconMatcher",
        "MedicalNerModel",
        "MedicalNerApproach",
        "NerConverterInternal",
        "AssertionDLModel",
        "ReadAs",
    } <= set(sparkner.annotator.__all__)
    assert "ReadAs" in sparkner.base.__all__
    assert {"Annotation", "ReadAs", "CoverageResult"} <= set(sparkner.common.__all__)
    assert sparkner.training.CoNLL is CoNLL
    assert isinstance(sparkner.version(), str)
