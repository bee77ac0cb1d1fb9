"""NerDLApproach / NerDLModel end to end on a small, learnable data set."""

from __future__ import annotations

import json
import os
import shutil
import textwrap

import pytest
from pyspark.ml import PipelineModel
from tests_support import result_of_new_process, write_tiny_conll

from sparkner import (
    DocumentAssembler,
    LightPipeline,
    SentenceDetector,
    Tokenizer,
    WordEmbeddings,
    WordEmbeddingsModel,
)
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.ner.config import add_to_record
from sparkner.stages.stage import AnnotatorInputError
from sparkner.training.conll import CoNLL

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embeddings():
    return WordEmbeddingsModel.pretrained().setInputCols(["sentence", "token"])


@pytest.fixture(scope="module")
def training_frame(spark, tmp_path_factory, embeddings):
    path = tmp_path_factory.mktemp("ner") / "train.tsv"
    write_tiny_conll(path)
    return embeddings.transform(CoNLL().readDataset(spark, str(path))).cache()


@pytest.fixture(scope="module")
def ner_model(training_frame, tmp_path_factory) -> NerDLModel:
    logs = tmp_path_factory.mktemp("logs")
    approach = (
        NerDLApproach()
        .setMaxEpochs(6)
        .setLr(0.01)
        .setBatchSize(8)
        .setRandomSeed(1)
        .setValidationSplit(0.2)
        .setIncludeConfidence(True)
        .setEnableOutputLogs(True)
        .setOutputLogsPath(str(logs))
        .setTestDataset(training_frame.limit(40))
    )
    model = approach.fit(training_frame)
    model.log_folder = str(logs)
    return model


@pytest.fixture(scope="module")
def pipeline(ner_model, embeddings) -> PipelineModel:
    return PipelineModel(
        stages=[DocumentAssembler(), SentenceDetector(), Tokenizer(), embeddings, ner_model]
    )


def test_learns_the_entities(pipeline):
    result = LightPipeline(pipeline).annotate("Her brother has colon cancer .")
    assert result["ner"] == ["O", "O", "O", "B-Disease", "I-Disease", "O"]


def test_training_record_and_log(ner_model):
    record = ner_model.training_record()
    assert record["training_sentences"] == 128 and record["validation_sentences"] == 32
    last = record["epochs"][-1]
    assert last["validation"]["f1"] > 0.8 and last["loss"] < record["epochs"][0]["loss"]
    # The test set is evaluated every epoch and at the end, on the model kept.
    assert all("f1" in epoch["test"] for epoch in record["epochs"])
    assert record["test"]["f1"] == max(epoch["test"]["f1"] for epoch in record["epochs"])
    (log,) = os.listdir(ner_model.log_folder)
    with open(os.path.join(ner_model.log_folder, log)) as handle:
        text = handle.read()
    assert "validation split entities P" in text and "testDataset entities P" in text
    assert "epoch 1/6" in text
    assert ner_model.tags()[0] == "O" and set(ner_model.tags()) == {"O", "B-Disease", "I-Disease"}
    assert ner_model.getStorageRef() == "embeddings_clinical_v2"


def test_spark_and_light_pipeline_agree_on_odd_input(spark, pipeline):
    texts = [
        "The patient has asthma .",
        None,
        "",
        "   ",
        "Diabetes",
        "x" * 1000 + " has gout .",
        "Emoji 😀 and 胸痛 with anemia .",
        " ".join(["word"] * 5000) + " asthma .",
    ]
    frame = spark.createDataFrame(list(enumerate(texts)), "id int, text string").repartition(3)
    rows = pipeline.transform(frame).orderBy("id").collect()
    light = LightPipeline(pipeline).fullAnnotate(texts)
    assert len(rows) == len(texts)

    def view(annotations):
        return [(a.begin, a.end, a.result, a.metadata["confidence"]) for a in annotations]

    assert [view(r.ner) for r in rows] == [view(r["ner"]) for r in light]
    assert [len(r.ner) for r in rows][1:4] == [0, 0, 0]
    assert len(rows[7].ner) == 5002
    for row in rows:
        for a in row.ner:
            assert row.text[a.begin : a.end + 1] == a.metadata["word"]


def test_all_confidence_scores(pipeline, ner_model):
    ner_model.setIncludeAllConfidenceScores(True)
    try:
        (first, *_) = LightPipeline(pipeline).fullAnnotate("Gout .")[0]["ner"]
    finally:
        ner_model.setIncludeAllConfidenceScores(False)
    scores = {k: float(v) for k, v in first.metadata.items() if k not in ("word", "sentence")}
    assert set(scores) == {"O", "B-Disease", "I-Disease"}
    assert sum(scores.values()) == pytest.approx(1.0, abs=2e-3)


def test_saved_pipeline_tags_identically_in_a_new_process(spark, pipeline, tmp_path):
    path = str(tmp_path / "ner_pipeline")
    pipeline.write().save(path)
    texts = ["The patient has hypertension .", "He takes aspirin daily ."]
    expected = LightPipeline(pipeline).annotate(texts)
    script = textwrap.dedent(
        f"""
        import json, sparkner
        from pyspark.ml import PipelineModel
        from sparkner import LightPipeline
        spark = sparkner.start(master="local[1]")
        model = PipelineModel.load({path!r})
        frame = spark.createDataFrame([(t,) for t in {texts!r}], "text string")
        spark_tags = [[a.result for a in r.ner] for r in model.transform(frame).collect()]
        light_tags = [r["ner"] for r in LightPipeline(model).annotate({texts!r})]
        print("RESULT=" + json.dumps([spark_tags, light_tags]))
        """
    )
    spark_tags, light_tags = json.loads(result_of_new_process(script))
    assert spark_tags == light_tags == [r["ner"] for r in expected]


def test_empty_training_set_is_a_clear_error(training_frame):
    with pytest.raises(ValueError, match="no embedded tokens"):
        NerDLApproach().setMaxEpochs(1).fit(training_frame.limit(0))


def test_single_tag_label_column(training_frame):
    from pyspark.sql import functions as F

    only_o = training_frame.withColumn(
        "label", F.transform("label", lambda a: a.withField("result", F.lit("O")))
    )
    model = NerDLApproach().setMaxEpochs(1).fit(only_o.limit(20))
    assert model.tags() == ["O"]
    assert set(
        LightPipeline(
            [
                DocumentAssembler(),
                SentenceDetector(),
                Tokenizer(),
                WordEmbeddingsModel.pretrained(),
                model,
            ]
        ).annotate("The patient has gout .")["ner"]
    ) == {"O"}


def test_char_filters_setting(training_frame):
    from sparkner.ner.config import read_config

    model = NerDLApproach().setMaxEpochs(1).setCharFilters(12).fit(training_frame.limit(20))
    assert read_config(model.files_folder()).char_filters == 12
    light = LightPipeline(
        [
            DocumentAssembler(),
            SentenceDetector(),
            Tokenizer(),
            WordEmbeddingsModel.pretrained(),
            model,
        ]
    )
    assert len(light.annotate("The patient has gout .")["ner"]) == 5
    with pytest.raises(ValueError, match="charFilters"):
        NerDLApproach().setCharFilters(0)


def test_missing_label_column(training_frame):
    approach = NerDLApproach().setLabelColumn("tags")
    with pytest.raises(AnnotatorInputError, match="label column 'tags' does not exist"):
        approach.fit(training_frame)
    with pytest.raises(AnnotatorInputError, match="label column 'tags' does not exist"):
        approach.transformSchema(training_frame.schema)  # before any work
    schema = NerDLApproach().transformSchema(training_frame.schema)
    assert schema["ner"].metadata == {"annotatorType": "named_entity"}


def test_bad_settings_name_themselves():
    with pytest.raises(ValueError, match="dropout"):
        NerDLApproach().setDropout(1.5)
    with pytest.raises(ValueError, match="maxEpochs"):
        NerDLApproach().setMaxEpochs(0)
    with pytest.raises(ValueError, match="has no tagger"):
        NerDLModel().batch_function()


def test_pretrained_bc5cdr_finds_chemicals_and_diseases():
    from sparkner import NerConverter

    light = LightPipeline(
        [
            DocumentAssembler(),
            SentenceDetector(),
            Tokenizer(),
            WordEmbeddingsModel.pretrained(),
            NerDLModel.pretrained("ner_bc5cdr"),
            NerConverter(),
        ]
    )
    text = "Cisplatin caused acute renal failure in two patients."
    chunks = light.fullAnnotate(text)[0]["ner_chunk"]
    found = {(c.result, c.metadata["entity"]) for c in chunks}
    assert {("Cisplatin", "Chemical"), ("acute renal failure", "Disease")} <= found
    for c in chunks:
        assert text[c.begin : c.end + 1] == c.result


def test_unknown_pretrained_tagger_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown pretrained tagger 'nope'.*ner_bc5cdr"):
        NerDLModel.pretrained("nope")


def test_pretrained_clinical_finds_problems_tests_treatments():
    from sparkner import LexiconMatcherModel, NerConverter

    light = LightPipeline(
        [
            DocumentAssembler(),
            SentenceDetector(),
            Tokenizer(),
            WordEmbeddingsModel.pretrained(),
            LexiconMatcherModel.pretrained("lexicon_clinical"),
            NerDLModel.pretrained("ner_clinical").setInputCols(LEXICON_INPUTS),
            NerConverter(),
        ]
    )
    text = "The patient presented with fever and cough. A chest CT was performed."
    chunks = light.fullAnnotate(text)[0]["ner_chunk"]
    found = {(c.result, c.metadata["entity"]) for c in chunks}
    assert ("fever", "PROBLEM") in found and ("cough", "PROBLEM") in found
    assert any(entity == "TEST" and "CT" in word for word, entity in found), found
    for c in chunks:
        assert text[c.begin : c.end + 1] == c.result


def test_tagger_looks_vectors_up_itself_on_spark(spark):
    """Selecting only the tags, Spark never computes the 200-float embeddings column: the
    tagger looks the same vectors up in the same store, and the tags are identical."""
    from pyspark.sql import functions as F

    from sparkner.apps.light_pipeline import LightPipeline
    from sparkner.apps.pretrained import pretrained_pipeline_model
    from sparkner.resources import sample_notes

    model = pretrained_pipeline_model("ner_clinical")
    notes = sample_notes()
    frame = spark.createDataFrame(list(notes.items()), "id string, text string")
    annotated = model.transform(frame)

    def plan(columns):
        return annotated.select(*columns)._jdf.queryExecution().executedPlan().toString()

    assert "WordEmbeddingsModel" not in plan(["id", "ner"]) and "NerDLModel" in plan(["ner"])
    assert "WordEmbeddingsModel" in plan(["id", "embeddings", "ner"])

    def tags(frame, *columns):
        rows = frame.select("id", *columns, "ner").collect()
        return {r.id: [(a.begin, a.end, a.result, a.metadata) for a in r.ner] for r in rows}

    light = LightPipeline(model).fullAnnotate(list(notes.values()))
    expected = {
        k: [(a.begin, a.end, a.result, a.metadata) for a in row["ner"]]
        for k, row in zip(notes, light, strict=True)
    }
    assert tags(annotated) == expected
    assert tags(annotated, "embeddings") == expected
    # An embeddings column whose origin is unknown (read back from a file, say) is read as is.
    tagger = next(i for i, stage in enumerate(model.stages) if isinstance(stage, NerDLModel))
    upstream = model.stages[:tagger]  # the text stages, the vectors and the term lists
    embedded = frame
    for stage in upstream:
        embedded = stage.transform(embedded)
    plain = embedded.withColumn(
        "embeddings",
        F.col("embeddings").alias(
            "embeddings",
            metadata={"annotatorType": "word_embeddings", "ref": "embeddings_clinical_v2"},
        ),
    )
    read_as_is = model.stages[tagger].transform(plain)
    assert (
        "WordEmbeddingsModel"
        in read_as_is.select("ner")._jdf.queryExecution().executedPlan().toString()
    )
    assert tags(read_as_is) == expected


def _other_vectors(tokens, tmp_path, dimension: int, ref: str) -> WordEmbeddingsModel:
    """Vectors of ``dimension`` for a few words, under the storageRef ``ref``."""
    path = tmp_path / f"other_{dimension}.vec"
    words = ["The", "patient", "has", "asthma", "."]
    path.write_text(
        f"{len(words)} {dimension}\n"
        + "".join(f"{w} " + " ".join(["0.5"] * dimension) + "\n" for w in words)
    )
    return (
        WordEmbeddings(storageRef=ref)
        .setInputCols(["sentence", "token"])
        .setStoragePath(str(path), "TEXT")
        .fit(tokens)
    )


def test_tagger_refuses_other_vectors_at_transform(spark, ner_model, tmp_path):
    """The trained tagger (200-d 'embeddings_clinical_v2' vectors) given vectors of another
    storageRef, or of another dimension under the right name: refused by transform(),
    naming both, before any Spark job runs."""
    frame = spark.createDataFrame([("The patient has asthma .",)], "text string")
    tokens = PipelineModel(stages=[DocumentAssembler(), SentenceDetector(), Tokenizer()])
    tokens = tokens.transform(frame)
    other_ref = _other_vectors(tokens, tmp_path, 200, "other_vectors").transform(tokens)
    other_dim = _other_vectors(tokens, tmp_path, 3, "embeddings_clinical_v2").transform(tokens)
    context = spark.sparkContext
    context.setJobGroup("mismatched-vectors", "transform() of mismatched vectors")
    try:
        expected = r"holds word embeddings 'other_vectors', but this stage was trained with "
        with pytest.raises(AnnotatorInputError, match=expected + "'embeddings_clinical_v2'"):
            ner_model.transform(other_ref)
        expected = r"'embeddings' holds 3-dimensional word embeddings, but this tagger was "
        with pytest.raises(AnnotatorInputError, match=expected + "trained on 200-dimensional"):
            ner_model.transform(other_dim)
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    assert context.statusTracker().getJobIdsForGroup("mismatched-vectors") == []


def test_training_refuses_mixed_dimensions(training_frame):
    from pyspark.sql import functions as F

    # The first token of every sentence gets a 100-d vector, the others keep 200.
    mixed = training_frame.withColumn(
        "embeddings",
        F.transform(
            "embeddings",
            lambda a, i: F.when(
                i == 0, a.withField("embeddings", F.slice(a["embeddings"], 1, 100))
            ).otherwise(a),
        ),
    )
    expected = r"'embeddings' must hold one 200-dimensional vector per token; found dimensions"
    with pytest.raises(ValueError, match=expected + r" \[100, 200\]"):
        NerDLApproach().setMaxEpochs(1).fit(mixed)


# -- lexicon features: the LexiconMatcherModel's column as an optional fourth input -----------
LEXICON_TERMS = {
    "DISEASE": ["colon cancer", "asthma", "gout", "heart failure"],
    "DRUG": ["aspirin", "insulin"],
}
LEXICON_INPUTS = ["sentence", "token", "embeddings", "lexicon"]


@pytest.fixture(scope="module")
def lexicon_model(training_frame):
    from sparkner.annotators.lexicon_matcher import LexiconMatcher

    return LexiconMatcher().setTerms(LEXICON_TERMS).fit(training_frame)


@pytest.fixture(scope="module")
def lexicon_ner_model(training_frame, lexicon_model) -> NerDLModel:
    frame = lexicon_model.transform(training_frame).cache()
    approach = (
        NerDLApproach()
        .setInputCols(LEXICON_INPUTS)
        .setMaxEpochs(4)
        .setLr(0.01)
        .setBatchSize(8)
        .setRandomSeed(1)
        .setIncludeConfidence(True)
        .setTestDataset(frame.limit(20))
    )
    return approach.fit(frame)


@pytest.fixture(scope="module")
def lexicon_pipeline(embeddings, lexicon_model, lexicon_ner_model) -> PipelineModel:
    return PipelineModel(
        stages=[
            DocumentAssembler(),
            SentenceDetector(),
            Tokenizer(),
            embeddings,
            lexicon_model,
            lexicon_ner_model,
        ]
    )


LEXICON_TEXTS = [
    "Her brother has colon cancer .",
    "He takes aspirin daily . She has gout .",
    None,
    "",
    "The patient has asthma and heart failure .",
    "History of migraine in the family .",
]


def _ner_view(annotations):
    return [(a.begin, a.end, a.result, a.metadata["confidence"]) for a in annotations]


def test_lexicon_tagger_records_its_classes_and_learns(lexicon_ner_model, lexicon_pipeline):
    from sparkner.ner.config import read_config

    assert lexicon_ner_model.lexicon_classes() == ["DISEASE", "DRUG"]
    assert read_config(lexicon_ner_model.files_folder()).lexicon_width == 5
    assert lexicon_ner_model.getInputCols() == LEXICON_INPUTS
    record = lexicon_ner_model.training_record()
    assert "f1" in record["test"] and record["training_sentences"] == 160
    result = LightPipeline(lexicon_pipeline).annotate("Her brother has colon cancer .")
    assert result["ner"] == ["O", "O", "O", "B-Disease", "I-Disease", "O"]


def test_lexicon_tagger_same_tags_on_spark_fused_light_and_saved(spark, lexicon_pipeline, tmp_path):
    from pyspark.sql import functions as F

    from sparkner.runtime.fused import pipeline_udf
    from sparkner.runtime.udf import has_arrow_udf

    frame = spark.createDataFrame(list(enumerate(LEXICON_TEXTS)), "id int, text string")
    frame = frame.repartition(2)
    light = [
        _ner_view(r["ner"]) for r in LightPipeline(lexicon_pipeline).fullAnnotate(LEXICON_TEXTS)
    ]
    assert [len(v) for v in light] == [6, 9, 0, 0, 8, 7]
    # Stage by stage: the tagger looks the vectors up itself, with the lexicon column sent.
    rows = lexicon_pipeline.transform(frame).select("id", "ner").orderBy("id").collect()
    assert [_ner_view(r.ner) for r in rows] == light
    # The embeddings column read as is (its origin unknown): the plain batch function.
    upstream = frame
    for stage in lexicon_pipeline.stages[:5]:
        upstream = stage.transform(upstream)
    plain = upstream.withColumn(
        "embeddings",
        F.col("embeddings").alias("embeddings", metadata={"annotatorType": "word_embeddings"}),
    )
    rows = lexicon_pipeline.stages[5].transform(plain).select("id", "ner").orderBy("id")
    assert [_ner_view(r.ner) for r in rows.collect()] == light
    if has_arrow_udf():
        run = pipeline_udf(lexicon_pipeline, spark, ["ner"])
        fused = frame.select("id", run("text").alias("out")).orderBy("id").collect()
        assert [_ner_view(r.out.ner) for r in fused] == light
    path = str(tmp_path / "lexicon_ner_pipeline")
    lexicon_pipeline.write().save(path)
    loaded = PipelineModel.load(path)
    assert loaded.stages[5].getInputCols() == LEXICON_INPUTS
    again = [_ner_view(r["ner"]) for r in LightPipeline(loaded).fullAnnotate(LEXICON_TEXTS)]
    assert again == light


def test_lexicon_column_needed_by_a_lexicon_tagger_only(
    spark, lexicon_ner_model, ner_model, embeddings, lexicon_model, tmp_path
):
    frame = spark.createDataFrame([("The patient has asthma .",)], "text string")
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer(), embeddings, lexicon_model]
    prepared = PipelineModel(stages=stages).transform(frame)
    without = NerDLModel().attach_files(lexicon_ner_model.files_folder())
    expected = (
        r"trained with lexicon features \(classes \['DISEASE', 'DRUG'\]\) and needs the "
        r"lexicon column .* in inputCols, which is \['sentence', 'token', 'embeddings'\]; e\.g\. "
        r"setInputCols\(\['sentence', 'token', 'embeddings', 'lexicon'\]\)"
    )
    with pytest.raises(AnnotatorInputError, match=expected):
        without.transform(prepared)
    with pytest.raises(AnnotatorInputError, match=expected):
        LightPipeline(PipelineModel(stages=[*stages, without]))
    with pytest.raises(ValueError, match="trained with lexicon features"):
        without.batch_function()(None, None, prepared.select("embeddings").toArrow()[0])
    # Its folder names no bundled lexicon to match itself: the message says so.
    with pytest.raises(AnnotatorInputError, match=r"names no bundled lexicon .*record 'lexicon'"):
        without.transform(prepared)
    # A recorded lexicon that is not bundled, or whose classes are not the tagger's.
    recorded = tmp_path / "recorded"
    shutil.copytree(lexicon_ner_model.files_folder(), recorded)
    add_to_record(recorded, lexicon="lexicon_nope")
    with pytest.raises(AnnotatorInputError, match=r"lexicon 'lexicon_nope' .* not bundled; .*"):
        NerDLModel().attach_files(recorded).transform(prepared)
    add_to_record(recorded, lexicon="lexicon_clinical")
    with pytest.raises(
        AnnotatorInputError,
        match=r"the bundled lexicon 'lexicon_clinical', whose classes \['PROBLEM', 'TEST', "
        r"'TREATMENT'\] lack \['DISEASE', 'DRUG'\]",
    ):
        NerDLModel().attach_files(recorded).transform(prepared)
    plain = NerDLModel().attach_files(ner_model.files_folder()).setInputCols(LEXICON_INPUTS)
    expected = r"trained without lexicon features: inputCols .* has 4 columns, expected 3"
    with pytest.raises(AnnotatorInputError, match=expected + r".*'lexicon' out of inputCols"):
        plain.transform(prepared)
    with pytest.raises(AnnotatorInputError, match=r"has 5 columns, expected 3 .*optionally"):
        plain.setInputCols([*LEXICON_INPUTS, "token"]).transform(prepared)
    # A missing column itself is named as for any stage.
    with pytest.raises(AnnotatorInputError, match="input column 'lexicon' does not exist"):
        lexicon_ner_model.transform(prepared.drop("lexicon"))


# -- a tagger that matches its bundled lexicon itself: the model card's pipeline ---------------
def _card_stages(with_lexicon: bool) -> list:
    """The model card's pipeline as Spark NLP users write it (``with_lexicon``: with the
    LexiconMatcherModel stage and the tagger's fourth input instead)."""
    from sparkner import LexiconMatcherModel, NerConverter

    ner = NerDLModel.pretrained("ner_clinical", "en", "clinical/models").setOutputCol("ner")
    lexicon = []
    if with_lexicon:
        lexicon = [LexiconMatcherModel.pretrained("lexicon_clinical").setOutputCol("lexicon")]
        ner.setInputCols(LEXICON_INPUTS)
    else:
        ner.setInputCols(["sentence", "token", "embeddings"])
    return [
        DocumentAssembler().setInputCol("text").setOutputCol("document"),
        SentenceDetector().setInputCols(["document"]).setOutputCol("sentence"),
        Tokenizer().setInputCols(["sentence"]).setOutputCol("token"),
        WordEmbeddingsModel.pretrained("embeddings_clinical", "en", "clinical/models")
        .setInputCols(["sentence", "token"])
        .setOutputCol("embeddings"),
        *lexicon,
        ner,
        NerConverter().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk"),
    ]


def _view(annotations) -> list:
    return [(a.begin, a.end, a.result, dict(a.metadata)) for a in annotations]


def test_lexicon_matches_on_sentences_are_those_on_the_document():
    """The tagger matches its lexicon over the sentence column (it has no document input):
    matches never cross a sentence, so they are the LexiconMatcherModel's on the document,
    texts and all."""
    from sparkner import LexiconMatcherModel
    from sparkner.resources import sample_notes

    def matches(column):
        lexicon = LexiconMatcherModel.pretrained("lexicon_clinical").setInputCols([column, "token"])
        light = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer(), lexicon])
        return [_view(r["lexicon"]) for r in light.fullAnnotate(notes)]

    # A term ("chest pain") across a sentence end is matched in neither.
    notes = [*sample_notes().values(), "He points to his chest\n\nPain started today.", ""]
    on_document = matches("document")
    assert sum(map(len, on_document)) > 50
    assert [m[2] for m in on_document[-2]] == ["Pain"]
    assert matches("sentence") == on_document


def test_model_card_pipeline_tags_as_the_four_input_one(spark, tmp_path):
    """``ner_clinical`` given only (sentence, token, embeddings) computes its lexicon features
    itself: the same tags, scores and chunks as with the LexiconMatcherModel's column, on the
    sample notes, in the LightPipeline, on Spark stage by stage, fused, and saved."""
    from pyspark.sql import functions as F

    from sparkner.resources import sample_notes
    from sparkner.runtime.fused import pipeline_udf
    from sparkner.runtime.udf import has_arrow_udf

    notes = [*sample_notes().values(), "", None]
    card = PipelineModel(stages=_card_stages(with_lexicon=False))
    assert card.stages[4].computes_lexicon() and card.stages[4].getIncludeConfidence() is False
    four = PipelineModel(stages=_card_stages(with_lexicon=True))
    assert not four.stages[5].computes_lexicon()

    def light(model):
        rows = LightPipeline(model).fullAnnotate(notes)
        return [(_view(r["ner"]), _view(r["ner_chunk"])) for r in rows]

    expected = light(four)
    assert sum(len(chunks) for _, chunks in expected) > 50
    assert light(card) == expected
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string").repartition(2)

    def on_spark(result):
        rows = result.select("id", "ner", "ner_chunk").orderBy("id").collect()
        return [(_view(r.ner), _view(r.ner_chunk)) for r in rows]

    # Stage by stage: the tagger looks its vectors up and matches its terms in the executors.
    assert on_spark(card.transform(frame)) == expected
    # The embeddings column read as it is (its origin unknown): every input is sent.
    upstream = frame
    for stage in card.stages[:4]:
        upstream = stage.transform(upstream)
    plain = upstream.withColumn(
        "embeddings",
        F.col("embeddings").alias(
            "embeddings",
            metadata={"annotatorType": "word_embeddings", "ref": "embeddings_clinical_v2"},
        ),
    )
    assert on_spark(card.stages[5].transform(card.stages[4].transform(plain))) == expected
    if has_arrow_udf():
        run = pipeline_udf(card, spark, ["ner", "ner_chunk"])
        fused = frame.select("id", run("text").alias("out")).orderBy("id").collect()
        assert [(_view(r.out.ner), _view(r.out.ner_chunk)) for r in fused] == expected
    path = str(tmp_path / "card")
    card.write().save(path)
    loaded = PipelineModel.load(path)
    assert loaded.stages[4].getInputCols() == ["sentence", "token", "embeddings"]
    assert light(loaded) == expected


def test_bare_pretrained_tagger_runs_with_three_inputs():
    """``NerDLModel.pretrained()`` as Spark NLP's snippets use it: default inputs (sentence,
    token, embeddings), the bundled ner_clinical, and no lexicon stage."""
    ner = NerDLModel.pretrained()
    assert ner.getInputCols() == ["sentence", "token", "embeddings"]
    light = LightPipeline(
        [
            DocumentAssembler(),
            SentenceDetector(),
            Tokenizer(),
            WordEmbeddingsModel.pretrained(),
            ner,
        ]
    )
    assert light.annotate("She denies chest pain .")["ner"] == [
        "O",
        "O",
        "B-PROBLEM",
        "I-PROBLEM",
        "O",
    ]
    # Its batch function needs the sentences and tokens to match the terms in.
    import pyarrow as pa

    from sparkner.core.annotation import ANNOTATIONS_ARROW_TYPE

    with pytest.raises(ValueError, match="computed from its sentence and token inputs"):
        ner.batch_function()(None, None, pa.array([[]], ANNOTATIONS_ARROW_TYPE))


# Digest of a bundled tagger's tags (begin, end, tag) on the sample notes, recorded for
# ner_bc5cdr version 2 (on embeddings_clinical version 2): a change of tags is a change of
# model, and must come with a new version and this digest updated.
BUNDLED_TAG_DIGESTS = {"ner_bc5cdr": "5f3246dc9f20a0c6"}


def test_bundled_taggers_tag_as_before():
    """A bundled tagger without lexicon features, on the sample notes: the tags recorded
    for its version."""
    import hashlib

    from sparkner.resources import sample_notes

    notes = list(sample_notes().values())
    digests = {}
    for name in BUNDLED_TAG_DIGESTS:
        ner = NerDLModel.pretrained(name)
        assert ner.lexicon_classes() == [] and ner.getInputCols() == LEXICON_INPUTS[:3]
        light = LightPipeline(
            [
                DocumentAssembler(),
                SentenceDetector(),
                Tokenizer(),
                WordEmbeddingsModel.pretrained(),
                ner,
            ]
        )
        rows = [[(a.begin, a.end, a.result) for a in r["ner"]] for r in light.fullAnnotate(notes)]
        digests[name] = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]
    assert digests == BUNDLED_TAG_DIGESTS


def test_recipe_with_a_bundled_lexicon(spark, tmp_path):
    """``lexicon: lexicon_clinical`` in a recipe: its splits get the lexicon column and the
    approach reads it; an unknown lexicon is refused when the recipe is read."""
    from tests_support import write_tiny_conll

    from sparkner.training.ner import _approach, load_recipe, read_split

    write_tiny_conll(tmp_path / "train.tsv", sentences=8)
    config = tmp_path / "r.yaml"
    config.write_text("name: r\ntrain: train.tsv\ndev: train.tsv\nlexicon: lexicon_clinical\n")
    recipe = load_recipe(config)
    assert _approach(recipe).getInputCols() == LEXICON_INPUTS
    frame = read_split(spark, recipe, tmp_path, "train")
    matches = {(a.result, a.metadata["entity"]) for r in frame.collect() for a in r.lexicon}
    assert ("asthma", "PROBLEM") in matches and ("insulin", "TREATMENT") in matches
    assert _approach(recipe).check_input_columns(frame.schema) == LEXICON_INPUTS
    config.write_text("name: r\ntrain: train.tsv\ndev: train.tsv\nlexicon: nope\n")
    with pytest.raises(ValueError, match=r"r\.yaml: lexicon: unknown pretrained lexicon 'nope'"):
        load_recipe(config)
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: r\ntrain: train.tsv\ndev: train.tsv\n")
    assert "lexicon" not in read_split(spark, load_recipe(plain), tmp_path, "dev").columns


def test_get_classes_lists_the_tags():
    classes = NerDLModel.pretrained("ner_bc5cdr").getClasses()
    assert classes[0] == "O" or "O" in classes
    assert {"B-Chemical", "I-Chemical", "B-Disease", "I-Disease"} <= set(classes)


def test_tensorflow_graph_params_are_accepted_with_one_warning(tmp_path):
    import warnings

    import sparkner.core.params

    sparkner.core.params._WARNED.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        approach = (
            NerDLApproach()
            .setGraphFolder(str(tmp_path))
            .setConfigProtoBytes([1, 2])
            .setUseContrib(False)
            .setEnableMemoryOptimizer(True)
        )
        NerDLApproach().setGraphFolder(str(tmp_path))  # warned once already
    messages = [str(w.message) for w in caught]
    assert len(messages) == 4 and all("has no effect" in m for m in messages)
    assert approach.getGraphFolder() == str(tmp_path) and approach.getUseContrib() is False
    assert not NerDLModel().hasParam("graphFolder")  # nothing reaches the model


def test_spark_nlp_training_setters_reach_the_training_settings():
    approach = (
        NerDLApproach()
        .setMinEpochs(3)
        .setMaxEpochs(9)
        .setBestModelMetric("f1_macro")
        .setEarlyStoppingCriterion(0.01)
        .setEvaluationLogExtended(True)
    )
    settings = approach.training_settings([], selects=True)
    assert (settings.min_epochs, settings.metric, settings.min_delta) == (3, "macro_f1", 0.01)
    assert settings.extended_log and settings.patience == approach.getPatience()
    assert approach.setEarlyStoppingPatience(2).training_settings([], True).patience == 2
    with pytest.raises(ValueError, match="minEpochs 3 is more than maxEpochs 2"):
        approach.setMaxEpochs(2).training_settings([], True)
    with pytest.raises(ValueError, match="bestModelMetric must be one of"):
        NerDLApproach().setBestModelMetric("accuracy")
