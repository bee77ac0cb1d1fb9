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


# -- more snippets in the style of the Spark NLP for Healthcare workshop --------------------
# Each runs as written there, with the imports above; the files they read are written first.


@pytest.fixture(scope="module")
def clinical_model(spark):
    """The model card's pipeline with every confidence, fitted once for the snippets below."""
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
        .setIncludeAllConfidenceScores(True)
    )
    ner_converter = (
        NerConverterInternal().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk")
    )
    nlpPipeline = Pipeline(
        stages=[
            documentAssembler,
            sentenceDetector,
            tokenizer,
            word_embeddings,
            clinical_ner,
            ner_converter,
        ]
    )
    empty_data = spark.createDataFrame([[""]]).toDF("text")
    return nlpPipeline.fit(empty_data)


def test_all_confidence_scores_and_the_chunk_table(spark, clinical_model):
    from pyspark.sql import functions as F

    data = spark.createDataFrame([[TEXT]]).toDF("text")
    result = clinical_model.transform(data)
    # Spark 4's arrays_zip names its fields after the columns: cols['0'] is FIELD_NOT_FOUND,
    # cols['result'] and cols['metadata'] are the working form.
    chunks = result.select(
        F.explode(F.arrays_zip(result.ner_chunk.result, result.ner_chunk.metadata)).alias("cols")
    ).select(
        F.expr("cols['result']").alias("chunk"),
        F.expr("cols['metadata']['entity']").alias("ner_label"),
        F.expr("cols['metadata']['confidence']").alias("confidence"),
    )
    rows = chunks.collect()
    assert ("fever", "PROBLEM") in [(r.chunk, r.ner_label) for r in rows]
    assert all(0.0 < float(r.confidence) <= 1.0 for r in rows)  # never null
    with pytest.raises(Exception, match="FIELD_NOT_FOUND"):
        result.select(
            F.explode(F.arrays_zip(result.ner_chunk.result, result.ner_chunk.metadata)).alias(
                "cols"
            )
        ).select(F.expr("cols['0']")).collect()


def test_text_matcher_and_chunk_merge(spark, clinical_model, tmp_path):
    with open(tmp_path / "drugs.txt", "w") as f:
        f.write("ceftriaxone\nchest CT\n")
    entity_extractor = (
        TextMatcher()
        .setInputCols(["sentence", "token"])
        .setEntities(str(tmp_path / "drugs.txt"), ReadAs.TEXT)
        .setEntityValue("DRUG_OR_TEST")
        .setCaseSensitive(False)
        .setMergeOverlapping(True)
        .setOutputCol("matched_chunk")
    )
    chunk_merger = (
        ChunkMergeApproach()
        .setInputCols(["matched_chunk", "ner_chunk"])
        .setMergeOverlapping(True)
        .setSelectionStrategy("DiverseLonger")
        .setOutputCol("merged_chunk")
    )
    pipeline = Pipeline(stages=[*clinical_model.stages, entity_extractor, chunk_merger])
    data = spark.createDataFrame([[TEXT]]).toDF("text")
    model = pipeline.fit(data)
    merged = model.transform(data).selectExpr("explode(merged_chunk) as c").collect()
    found = {(r.c.result, r.c.metadata["entity"]) for r in merged}
    assert ("ceftriaxone", "DRUG_OR_TEST") in found and ("fever", "PROBLEM") in found
    light = LightPipeline(model).annotate(TEXT)
    assert sorted(light["merged_chunk"]) == sorted(r.c.result for r in merged)


def test_regex_matcher_with_external_rules(spark, tmp_path):
    with open(tmp_path / "regex_rules.txt", "w") as f:
        f.write("\\d+\\s?mg,DOSAGE\n\\b[A-Z]{2,}\\b,ABBREVIATION\n")
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    regexMatcher = (
        RegexMatcher()
        .setExternalRules(str(tmp_path / "regex_rules.txt"), ",")
        .setInputCols(["document"])
        .setOutputCol("regex")
        .setStrategy("MATCH_ALL")
    )
    data = spark.createDataFrame([["Started ASA 81 mg daily."]]).toDF("text")
    results = Pipeline().setStages([documentAssembler, regexMatcher]).fit(data).transform(data)
    assert results.selectExpr("regex.result").first()[0] == ["ASA", "81 mg"]


def test_normalizer_and_stop_words_cleaner(spark):
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = Tokenizer().setInputCols(["document"]).setOutputCol("token")
    stopWords = StopWordsCleaner().setInputCols(["token"]).setOutputCol("cleanTokens")
    normalizer = (
        Normalizer()
        .setInputCols(["cleanTokens"])
        .setOutputCol("normalized")
        .setLowercase(True)
        .setCleanupPatterns(["[^\\w\\d\\s]"])
    )
    data = spark.createDataFrame([["The patient has no Chest-Pain!"]]).toDF("text")
    pipeline = Pipeline().setStages([documentAssembler, tokenizer, stopWords, normalizer])
    result = pipeline.fit(data).transform(data)
    assert result.selectExpr("normalized.result").first()[0] == ["patient", "chestpain"]


def test_document_assembler_cleanup_and_id(spark):
    documentAssembler = (
        DocumentAssembler()
        .setInputCol("text")
        .setOutputCol("document")
        .setIdCol("id")
        .setCleanupMode("shrink")
    )
    data = spark.createDataFrame([[1, "  Chest pain.\n\n\tNo fever.  "]]).toDF("id", "text")
    row = documentAssembler.transform(data).select("document").first()[0][0]
    assert (row.result, row.begin, row.end) == ("Chest pain. No fever.", 0, 20)
    assert row.metadata == {"id": "1", "sentence": "0"}


def test_tokenizer_with_spark_nlp_rules(spark):
    documentAssembler = DocumentAssembler().setInputCol("text").setOutputCol("document")
    tokenizer = (
        Tokenizer()
        .setInputCols(["document"])
        .setOutputCol("token")
        .setContextChars(["(", ")", "?", "!", ".", ","])
        .setSplitChars(["-"])
        .setTargetPattern("\\S+")
    )
    data = spark.createDataFrame([["Non-small cell (NSCLC) cancer, stage 2."]]).toDF("text")
    model = Pipeline().setStages([documentAssembler, tokenizer]).fit(data)
    tokens = model.transform(data).selectExpr("token.result").first()[0]
    assert tokens == ["Non", "small", "cell", "(", "NSCLC", ")", "cancer", ",", "stage", "2", "."]
    splitter = Tokenizer().setInputCols(["document"]).setOutputCol("token").setSplitPattern("-|#")
    text = "Tokens in this-text will#be#split"
    assert LightPipeline([documentAssembler, splitter]).annotate(text)["token"] == [
        "Tokens", "in", "this", "text", "will", "be", "split",
    ]  # fmt: skip
    french = Tokenizer().setInputCols(["document"]).setOutputCol("token")
    french.setInfixPatterns(["([\\p{L}\\w]+'{1})([\\p{L}\\w]+)"])
    assert LightPipeline([documentAssembler, french]).annotate("l'une d'un")["token"] == [
        "l'", "une", "d'", "un",
    ]  # fmt: skip


def test_train_with_healthcare_training_setters(spark, tmp_path):
    path = write_tiny_conll(tmp_path / "train.conll", sentences=40)
    training_data = CoNLL().readDataset(spark, str(path))
    embeddings = (
        WordEmbeddingsModel.pretrained("embeddings_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token"])
        .setOutputCol("embeddings")
    )
    nerTagger = (
        MedicalNerApproach()
        .setInputCols(["sentence", "token", "embeddings"])
        .setLabelColumn("label")
        .setOutputCol("ner")
        .setMaxEpochs(3)
        .setMinEpochs(2)
        .setLr(0.003)
        .setBatchSize(8)
        .setRandomSeed(0)
        .setVerbose(0)
        .setValidationSplit(0.2)
        .setEvaluationLogExtended(True)
        .setBestModelMetric("f1_macro")
        .setEarlyStoppingCriterion(0.01)
        .setEarlyStoppingPatience(1)
        .setEnableOutputLogs(True)
        .setOutputLogsPath(str(tmp_path / "ner_logs"))
    )
    model = Pipeline().setStages([embeddings, nerTagger]).fit(training_data)
    record = model.stages[-1].training_record()
    assert 2 <= len(record["epochs"]) <= 3
    assert "macro_f1" in record["epochs"][0]["validation"]
    (log,) = (tmp_path / "ner_logs").iterdir()
    assert "validation split Disease: P" in log.read_text()


def test_ner_dl_metrics(spark, tmp_path):
    from sparkner.evaluation import NerDLMetrics  # sparknlp_jsl.eval

    path = write_tiny_conll(tmp_path / "test.conll", sentences=10)
    test_data = CoNLL().readDataset(spark, str(path))
    embeddings = WordEmbeddingsModel.pretrained().setInputCols(["sentence", "token"])
    preds = embeddings.transform(test_data).withColumn("ner", test_data.label)
    metrics = (
        NerDLMetrics(mode="full_chunk")
        .computeMetricsFromDF(
            preds.select("label", "ner"),
            prediction_col="ner",
            label_col="label",
            drop_o=True,
            case_sensitive=True,
        )
        .cache()
    )
    rows = metrics.select("entity", "precision", "recall", "f1").collect()
    assert [(r.entity, r.f1) for r in rows] == [("Disease", 1.0)]


def test_full_annotate_with_parse_embeddings(clinical_model):
    light_model = LightPipeline(clinical_model, parse_embeddings=True)
    light_result = light_model.fullAnnotate("She has a fever.")[0]
    assert {len(e.embeddings) for e in light_result["embeddings"]} == {200}
    plain = LightPipeline(clinical_model).fullAnnotate("She has a fever.")[0]
    assert {len(e.embeddings) for e in plain["embeddings"]} == {0}
    assert [c.result for c in plain["ner_chunk"]] == ["fever"]


def test_pretrained_pipeline_from_clinical_models():
    pipeline = PretrainedPipeline("ner_clinical_pipeline", "en", "clinical/models")
    result = pipeline.annotate("The patient has fever and chest pain.")
    assert result["ner_chunk"] == ["fever", "chest pain"]
