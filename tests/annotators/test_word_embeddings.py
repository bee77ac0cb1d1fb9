"""WordEmbeddings / WordEmbeddingsModel on Spark and in the LightPipeline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.param import Param, Params, TypeConverters

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer
from sparkner.annotators.word_embeddings import WordEmbeddings, WordEmbeddingsModel
from sparkner.core.annotation import WORD_EMBEDDINGS
from sparkner.embeddings.store import StoreError
from sparkner.stages.stage import AnnotatorInputError, AnnotatorTransformer, roles

VECTORS = "4 3\nchest 1 2 3\npain 4 5 6\nCT 7 8 9\nbp 0.5 0.5 0.5\n"
NOTES = ["Chest pain. CT ok.", None, "", "BP 120/80 😀"]


@pytest.fixture(scope="module")
def vector_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vectors") / "tiny_vectors.vec"
    path.write_text(VECTORS)
    return str(path)


@pytest.fixture(scope="module")
def notes(spark):
    return spark.createDataFrame(list(enumerate(NOTES)), "id int, text string")


@pytest.fixture(scope="module")
def model(notes, vector_file) -> PipelineModel:
    stages = [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        WordEmbeddings().setStoragePath(vector_file, "TEXT").setDimension(3),
    ]
    return Pipeline(stages=stages).fit(notes)


def embeddings_of(frame) -> list[list[tuple]]:
    rows = frame.orderBy("id").collect()
    return [
        [(a.begin, a.end, a.result, a.metadata["isOOV"], tuple(a.embeddings)) for a in row]
        for row in (r.embeddings for r in rows)
    ]


@pytest.mark.slow
def test_one_vector_per_token_with_oov_marked(model, notes):
    out = model.transform(notes).orderBy("id").collect()
    first = out[0]
    assert [a.result for a in first.embeddings] == [a.result for a in first.token]
    assert [(a.begin, a.end) for a in first.embeddings] == [(a.begin, a.end) for a in first.token]
    by_word = {a.result: a for a in first.embeddings}
    assert by_word["Chest"].embeddings == [1.0, 2.0, 3.0]  # found in lower case
    assert by_word["CT"].embeddings == [7.0, 8.0, 9.0]
    assert by_word["ok"].embeddings == [0.0, 0.0, 0.0]
    assert by_word["ok"].metadata == {"sentence": "1", "token": "ok", "isOOV": "true"}
    assert by_word["pain"].metadata["isOOV"] == "false"
    assert all(a.annotatorType == WORD_EMBEDDINGS for a in first.embeddings)
    assert [len(r.embeddings) for r in out[1:3]] == [0, 0]
    assert out[3].embeddings[0].result == "BP" and out[3].embeddings[0].embeddings[0] == 0.5


def test_column_metadata_names_the_vectors(model, notes):
    field = model.transform(notes).schema["embeddings"]
    lookup = field.metadata.pop("sparknerLookup")  # for taggers that look vectors up
    assert field.metadata == {
        "annotatorType": "word_embeddings",
        "ref": "tiny_vectors",
        "dimension": 3,
    }
    assert lookup["tokens"] == "token" and lookup["caseSensitive"] is False


def test_case_sensitive_lookup(notes, vector_file):
    stages = [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        WordEmbeddings(caseSensitive=True).setStoragePath(vector_file),
    ]
    light = LightPipeline(Pipeline(stages=stages).fit(notes))
    oov = [a.metadata["isOOV"] for a in light.fullAnnotate("Chest chest")[0]["embeddings"]]
    assert oov == ["true", "false"]


@pytest.mark.slow
def test_same_as_light_pipeline(model, notes):
    light = LightPipeline(model, parse_embeddings=True).fullAnnotate(NOTES)
    expected = [
        [(a.begin, a.end, a.result, a.metadata["isOOV"], tuple(a.embeddings)) for a in row]
        for row in (r["embeddings"] for r in light)
    ]
    assert embeddings_of(model.transform(notes.repartition(3))) == expected


def test_dimension_mismatch_names_the_file(model, notes, vector_file):
    tokenized = PipelineModel(stages=model.stages[:3]).transform(notes)
    expected = r"tiny_vectors.vec: vectors have dimension 3, but dimension is set to 200"
    with pytest.raises(ValueError, match=expected):
        WordEmbeddings().setStoragePath(vector_file).setDimension(200).fit(tokenized)


def test_fit_without_a_path_or_with_a_bad_format(notes):
    with pytest.raises(ValueError, match="setStoragePath"):
        WordEmbeddings().fit(notes)
    with pytest.raises(ValueError, match="storage format must be one of"):
        WordEmbeddings().setStoragePath("x.vec", "CSV")


def test_missing_token_column_is_reported_before_reading(notes, tmp_path):
    with pytest.raises(AnnotatorInputError, match="'sentence' does not exist"):
        WordEmbeddings().setStoragePath(str(tmp_path / "absent.vec")).fit(notes)


def test_model_without_vectors_explains_itself():
    with pytest.raises(ValueError, match="has no vectors"):
        WordEmbeddingsModel().batch_function()


@pytest.mark.slow
def test_saved_pipeline_loads_and_gives_the_same_vectors(model, notes, tmp_path):
    path = str(tmp_path / "model")
    model.write().overwrite().save(path)
    loaded = PipelineModel.load(path)
    stage = loaded.stages[-1]
    assert isinstance(stage, WordEmbeddingsModel)
    assert stage.files_folder().startswith(os.path.realpath(path))
    assert stage.getStorageRef() == "tiny_vectors" and stage.getDimension() == 3
    assert embeddings_of(loaded.transform(notes)) == embeddings_of(model.transform(notes))


def test_damaged_saved_store_fails_at_load(model, tmp_path):
    path = str(tmp_path / "emb")
    model.stages[-1].write().save(path)
    header = Path(path, "files", "store.json")
    data = json.loads(header.read_text())
    data["version"] = 7
    header.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="version 7 is newer"):
        WordEmbeddingsModel.load(path)


class _VectorConsumer(AnnotatorTransformer):
    """A stand-in for a tagger: reads word embeddings and knows its storageRef."""

    input_roles = roles(embeddings=WORD_EMBEDDINGS)
    output_annotator_type = "named_entity"
    storageRef = Param(Params._dummy(), "storageRef", "ref", TypeConverters.toString)

    def __init__(self, ref: str) -> None:
        super().__init__()
        self._set(inputCols=["embeddings"], outputCol="ner", storageRef=ref)

    def batch_function(self):
        return lambda column: column


def test_storage_ref_mismatch_is_caught_at_transform(model, notes):
    annotated = model.transform(notes)
    _VectorConsumer("tiny_vectors").transform(annotated)  # the right vectors: accepted
    expected = r"holds word embeddings 'tiny_vectors', but this stage was trained with 'clin_200'"
    with pytest.raises(AnnotatorInputError, match=expected):
        _VectorConsumer("clin_200").transform(annotated)


def test_pretrained_clinical_vectors_load_offline():
    from sparkner.embeddings.store import open_store

    model = WordEmbeddingsModel.pretrained("embeddings_clinical")
    assert model.getStorageRef() == "embeddings_clinical_v2" and model.getDimension() == 200
    store = open_store(model.files_folder())
    assert store.header.count > 20_000
    near = [word for word, _ in store.nearest("metformin", 10)]
    assert {"glyburide", "glipizide", "pioglitazone", "insulin"} & set(near), near
    light = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer(), model])
    vectors = light.fullAnnotate("Hypertension, on metformin.")[0]["embeddings"]
    assert [a.metadata["isOOV"] for a in vectors] == ["false"] * 5


def test_unknown_pretrained_name_lists_the_available_ones():
    expected = r"unknown pretrained embeddings 'nope'.*embeddings_clinical"
    with pytest.raises(ValueError, match=expected):
        WordEmbeddingsModel.pretrained("nope")


def test_only_the_token_column_goes_to_the_python_worker(model, notes):
    import re

    plan = model.transform(notes)._jdf.queryExecution().executedPlan().toString()
    (arguments,) = re.findall(r"WordEmbeddingsModel\(([^)]*)\)", plan)
    assert "," not in arguments, plan


@pytest.mark.slow
def test_coverage_per_row_and_overall(model, notes):
    # Tokens: "Chest pain. CT ok." (5, "ok" and "." unknown), none, none, "BP 120/80 😀" (3).
    embedded = model.transform(notes)
    rows = WordEmbeddingsModel.withCoverageColumn(embedded, "embeddings").orderBy("id").collect()
    assert [(r.coverage.covered, r.coverage.total) for r in rows] == [
        (3, 6),
        (0, 0),
        (0, 0),
        (1, 3),
    ]
    assert rows[0].coverage.percentage == pytest.approx(0.5) and rows[1].coverage.percentage is None
    overall = WordEmbeddingsModel.overallCoverage(embedded, "embeddings")
    assert (overall.covered, overall.total) == (4, 9)
    assert overall.percentage == pytest.approx(4 / 9)
    empty = WordEmbeddingsModel.overallCoverage(embedded.where("id = 1"), "embeddings")
    assert (empty.covered, empty.total) == (0, 0) and empty.percentage != empty.percentage  # NaN


def test_storage_path_takes_read_as():
    from sparkner.common import ReadAs

    stage = WordEmbeddings().setStoragePath("vectors.bin", ReadAs.BINARY)
    assert stage.getStorageFormat() == "BINARY"
    assert WordEmbeddings().setStoragePath("v.txt", ReadAs.TEXT).getStorageFormat() == "TEXT"
