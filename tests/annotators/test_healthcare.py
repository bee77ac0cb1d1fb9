"""Spark NLP for Healthcare's names: the stages they alias, with Spark NLP's inputs, on every
path and saved."""

from __future__ import annotations

import pytest
from pyspark.ml import PipelineModel

from sparkner.annotators.healthcare import (
    AssertionDLModel,
    MedicalNerApproach,
    MedicalNerModel,
    NerConverterInternal,
)


def test_the_names_come_with_the_star_imports():
    namespace: dict[str, object] = {}
    exec("from sparkner.annotator import *", namespace)
    for name in ("MedicalNerModel", "MedicalNerApproach", "NerConverterInternal"):
        assert name in namespace
    assert namespace["AssertionDLModel"] is AssertionDLModel
    base: dict[str, object] = {}
    exec("from sparkner.base import *", base)
    from sparkner.core.common import ReadAs

    assert base["ReadAs"] is namespace["ReadAs"] is ReadAs
    import sparkner

    assert sparkner.MedicalNerModel is MedicalNerModel
    assert len(sparkner.__all__) == len(set(sparkner.__all__))


def test_the_aliases_take_spark_nlps_inputs():
    assert isinstance(MedicalNerApproach().new_model(), MedicalNerModel)
    assert MedicalNerModel().getInputCols() == ["sentence", "token", "embeddings"]
    assert NerConverterInternal().getInputCols() == ["sentence", "token", "ner"]
    assertion = AssertionDLModel()
    assert assertion.getInputCols() == ["sentence", "ner_chunk", "embeddings"]
    assert assertion.getOutputCol() == "assertion"
    # Matched by annotator type, in any order, as for every stage.
    types = {"ner_chunk": "chunk", "sentence": "document", "embeddings": "word_embeddings"}
    inputs = assertion.setInputCols(["embeddings", "ner_chunk", "sentence"]).resolve_inputs(types)
    assert inputs == {"sentence": "sentence", "chunk": "ner_chunk", "embeddings": "embeddings"}


def _workshop_stages(assertion_class: type) -> list:
    """The healthcare workshop's clinical NER + assertion pipeline (``assertion_class``:
    AssertionDLModel with Spark NLP's inputs, or sparkner's AssertionModel with its own)."""
    from sparkner import DocumentAssembler, SentenceDetector, Tokenizer, WordEmbeddingsModel
    from sparkner.annotators.assertion import AssertionModel

    if assertion_class is AssertionDLModel:
        assertion = AssertionDLModel.pretrained("assertion_clinical", "en", "clinical/models")
        assertion.setInputCols(["sentence", "ner_chunk", "embeddings"])
    else:
        assertion = AssertionModel.pretrained("assertion_clinical")
        assertion.setInputCols(["sentence", "token", "ner_chunk"])
    return [
        DocumentAssembler().setInputCol("text").setOutputCol("document"),
        SentenceDetector().setInputCols(["document"]).setOutputCol("sentence"),
        Tokenizer().setInputCols(["sentence"]).setOutputCol("token"),
        WordEmbeddingsModel.pretrained("embeddings_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token"])
        .setOutputCol("embeddings"),
        MedicalNerModel.pretrained("ner_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token", "embeddings"])
        .setOutputCol("ner"),
        NerConverterInternal().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk"),
        assertion.setOutputCol("assertion"),
    ]


def _view(annotations) -> list:
    return [(a.begin, a.end, a.result, dict(a.metadata)) for a in annotations]


@pytest.mark.slow
def test_workshop_pipeline_with_the_aliases_everywhere_and_saved(spark, tmp_path):
    """AssertionDLModel on (sentence, chunk, embeddings) labels the chunks as AssertionModel
    on (sentence, token, chunk), in the LightPipeline, on Spark (stage by stage, sent the token
    column or the embeddings as they are, and fused), and loaded from a save."""
    from pyspark.sql import functions as F

    from sparkner import LightPipeline
    from sparkner.annotators.assertion import AssertionModel
    from sparkner.resources import sample_notes
    from sparkner.runtime.fused import pipeline_udf
    from sparkner.runtime.udf import has_arrow_udf

    notes = [*sample_notes().values(), "", None, "She denies chest pain."]
    aliases = PipelineModel(stages=_workshop_stages(AssertionDLModel))
    plain = PipelineModel(stages=_workshop_stages(AssertionModel))

    def light(model):
        rows = LightPipeline(model).fullAnnotate(notes)
        return [(_view(r["ner_chunk"]), _view(r["assertion"])) for r in rows]

    expected = light(plain)
    assert sum(len(a) for _, a in expected) > 50
    assert [(c[2], a[2]) for (c,), (a,) in [expected[-1]]] == [("chest pain", "absent")]
    assert light(aliases) == expected

    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string").repartition(2)

    def on_spark(result):
        rows = result.select("id", "ner_chunk", "assertion").orderBy("id").collect()
        return [(_view(r.ner_chunk), _view(r.assertion)) for r in rows]

    assert on_spark(aliases.transform(frame)) == expected
    # Embeddings of unknown origin: the vectors' annotations themselves give the tokens.
    upstream = PipelineModel(stages=aliases.stages[:6]).transform(frame)
    unknown = upstream.withColumn(
        "embeddings",
        F.col("embeddings").alias(
            "embeddings",
            metadata={"annotatorType": "word_embeddings", "ref": "embeddings_clinical_v2"},
        ),
    )
    assert on_spark(aliases.stages[6].transform(unknown)) == expected
    if has_arrow_udf():
        run = pipeline_udf(aliases, spark, ["ner_chunk", "assertion"])
        fused = frame.select("id", run("text").alias("out")).orderBy("id").collect()
        assert [(_view(r.out.ner_chunk), _view(r.out.assertion)) for r in fused] == expected

    path = str(tmp_path / "workshop")
    aliases.write().save(path)
    loaded = PipelineModel.load(path)
    assert [type(s).__name__ for s in loaded.stages[4:]] == [
        "MedicalNerModel",
        "NerConverterInternal",
        "AssertionDLModel",
    ]
    assert loaded.stages[6].getInputCols() == ["sentence", "ner_chunk", "embeddings"]
    assert light(loaded) == expected


@pytest.mark.slow
def test_medical_ner_approach_fits_a_medical_ner_model(spark, tmp_path):
    from tests_support import write_tiny_conll

    from sparkner import WordEmbeddingsModel
    from sparkner.training.conll import CoNLL

    path = write_tiny_conll(tmp_path / "train.conll", sentences=30)
    embeddings = WordEmbeddingsModel.pretrained().setInputCols(["sentence", "token"])
    data = embeddings.transform(CoNLL().readDataset(spark, str(path)))
    model = MedicalNerApproach().setMaxEpochs(1).setRandomSeed(0).fit(data)
    assert type(model) is MedicalNerModel
    assert {"B-Disease", "I-Disease"} <= set(model.getClasses())
