"""A new model-backed stage is one small class: the bases do the folder, shipping, saving and
loading what the folder holds once per process.

``WordListModel`` below is a complete stage (a folder of files written by the test, a plain
loader, a pure batch function, a param) in under 30 lines of code. It runs through Spark, the
annotate job's fused UDF and the LightPipeline, saved and loaded, with the same annotations
everywhere, and its files are loaded once per process and fingerprint.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyspark import cloudpickle
from pyspark.ml import PipelineModel
from pyspark.sql import functions as F

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer
from sparkner.core.annotation import CHUNK, DOCUMENT, TOKEN, AnnotationBatch, build_annotations
from sparkner.core.params import declare
from sparkner.runtime.fused import pipeline_udf
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction, has_arrow_udf
from sparkner.stages.cache import ModelFiles, keep, load_once
from sparkner.stages.model import FolderModel
from sparkner.stages.stage import pipeline_schema, roles

LOADS: list[str] = []  # the folders read_words has read, in this process


# -- the whole stage -----------------------------------------------------------------------
def read_words(folder: str) -> dict[str, str]:
    LOADS.append(folder)
    return json.loads((Path(folder) / "words.json").read_text())


def find_words(
    _: object, tokens: pa.Array, words: ModelFiles[dict[str, str]], prefix: str
) -> pa.Array:
    entities, batch = words.load(), AnnotationBatch(tokens)
    hits = np.array([w.lower() in entities for w in batch.result], dtype=bool)
    found = [w for w, hit in zip(batch.result, hits, strict=True) if hit]
    counts = np.bincount(batch.row_of()[hits], minlength=batch.num_rows)
    offsets, labels = np.cumsum([0, *counts]), [prefix + entities[w.lower()] for w in found]
    return build_annotations(
        CHUNK, offsets, batch.begin[hits], batch.end[hits], found, {"entity": labels}
    )


class WordListModel(FolderModel):
    input_roles = roles(sentence=DOCUMENT, token=TOKEN)
    reads = ("token",)
    output_annotator_type = CHUNK
    bundled_marker = "words.json"
    default_pretrained = "none"
    files_kind = "word list"
    stage_defaults = {"inputCols": ["sentence", "token"], "outputCol": "words"}  # noqa: RUF012
    prefix = declare("prefix", "put before every entity type", default="")

    def folder_function(self, files: FolderLocation, spark: object) -> BatchFunction:
        words = self.model_files(files, read_words)
        return partial(find_words, words=words, prefix=self.getPrefix())


# -------------------------------------------------------------------------------------------
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the executors cannot import it
NOTES = ["Fever and cough.", "", None, "No FEVER. Cough persists; fever again."]


def write_words(folder: Path, words: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "words.json").write_text(json.dumps(words))
    return folder


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> PipelineModel:
    folder = write_words(tmp_path_factory.mktemp("words"), {"fever": "PROBLEM", "cough": "PROBLEM"})
    stage = WordListModel().attach_files(folder).setPrefix("X-")
    return PipelineModel(stages=[DocumentAssembler(), SentenceDetector(), Tokenizer(), stage])


def _rows(chunks) -> list[list[tuple]]:
    return [
        [(c["begin"], c["end"], c["result"], c["metadata"]["entity"]) for c in row or []]
        for row in chunks
    ]


def _light_rows(model: PipelineModel) -> list[list[tuple]]:
    rows = LightPipeline(model).fullAnnotate(NOTES)
    return _rows([[a.__dict__ for a in row["words"]] for row in rows])


def test_the_toy_stage_is_small():
    source = Path(__file__).read_text()
    stage = source[source.index("# -- the whole stage") : source.index("# -----")]
    assert len([line for line in stage.splitlines() if line.strip()]) < 30  # code, not blanks


@pytest.mark.slow
def test_a_toy_model_stage_runs_everywhere_saved_and_loaded(spark, pipeline, tmp_path):
    expected = _light_rows(pipeline)
    assert expected[0] == [(0, 4, "Fever", "X-PROBLEM"), (10, 14, "cough", "X-PROBLEM")]
    assert expected[1] == expected[2] == []
    assert [e[2] for e in expected[3]] == ["FEVER", "Cough", "fever"]

    pipeline.write().save(str(tmp_path / "saved"))
    loaded = PipelineModel.load(str(tmp_path / "saved"))
    assert loaded.stages[-1].getPrefix() == "X-"
    assert Path(loaded.stages[-1].files_folder()).parents[2].name == "saved"
    notes = spark.createDataFrame(list(enumerate(NOTES)), "id int, text string")
    for model in (pipeline, loaded):
        transformed = model.transform(notes)
        assert transformed.schema == pipeline_schema(model.stages, notes.schema)
        rows = transformed.orderBy("id").select("words").collect()
        assert _rows([r.words for r in rows]) == expected
        assert _light_rows(model) == expected
    if has_arrow_udf():
        fused = pipeline_udf(loaded, spark, ["words"])
        rows = notes.orderBy("id").select(fused(F.col("text")).alias("a")).collect()
        assert _rows([r.a.words for r in rows]) == expected


def test_the_files_are_loaded_once_per_fingerprint(tmp_path):
    """Two stages on two folders of the same content, many batches, in the LightPipeline:
    one load. Other content: another load, and its own words."""
    words = {"fever": "PROBLEM", f"marker{uuid.uuid4().hex}": "X"}  # content no test had
    first = write_words(tmp_path / "a", words)
    copy = shutil.copytree(first, tmp_path / "b")
    other = write_words(tmp_path / "c", {**words, "cough": "PROBLEM"})
    text = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    LOADS.clear()
    stages = [WordListModel().attach_files(first), WordListModel().attach_files(copy)]
    assert stages[0].fingerprint == stages[1].fingerprint
    for stage in stages:
        light = LightPipeline([*text, stage])
        for note in NOTES:
            light.annotate(note)
        light.annotate(NOTES * 50)
    assert len(LOADS) == 1
    changed = WordListModel().attach_files(other)
    assert changed.fingerprint != stages[0].fingerprint
    assert LightPipeline([*text, changed]).annotate("Fever, cough.")["words"] == ["Fever", "cough"]
    assert LightPipeline([*text, stages[1]]).annotate("Fever, cough.")["words"] == ["Fever"]
    assert len(LOADS) == 2


def _logged_load(folder: str) -> str:
    with open(Path(folder) / "loads.log", "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")
    return folder


@pytest.mark.slow
def test_a_spark_worker_loads_once(spark, tmp_path):
    """On Spark, each Python worker loads the files once, whatever the tasks it runs."""
    fingerprint = uuid.uuid4().hex
    files = ModelFiles(FolderLocation(str(tmp_path), fingerprint=fingerprint), "log", _logged_load)

    def task(_: object) -> list[int]:
        files.load()
        files.load()
        return [os.getpid()]

    pids = set()
    for _ in range(2):
        pids |= set(spark.sparkContext.parallelize(range(8), 8).mapPartitions(task).collect())
    logged = (tmp_path / "loads.log").read_text().split()
    assert sorted(logged) == sorted(set(logged)) and set(logged) == {str(p) for p in pids}


def test_the_cache_keys_what_is_loaded_and_its_fingerprint():
    what, fingerprint = ("test", uuid.uuid4().hex), "f1"
    made: list[int] = []

    def make() -> list[int]:
        made.append(1)
        return [len(made)]

    first = load_once(what, fingerprint, make)
    assert load_once(what, fingerprint, make) is first and made == [1]
    assert load_once(what, "f2", make) == [2] and load_once(("other", what), fingerprint, make)
    # A check loads anew (the files at hand are read) but the first object stays the kept one.
    assert keep(what, fingerprint, [9]) is first
    assert keep(what, "f3", [7]) == [7] and load_once(what, "f3", make) == [7]


# -- pretrained(name, lang, remote_loc) as Spark NLP's snippets call it ------------------------
def test_pretrained_takes_spark_nlps_model_repositories_for_the_bundled_models():
    from sparkner.annotators.lexicon_matcher import LexiconMatcherModel
    from sparkner.annotators.ner_dl import NerDLModel

    bundled = LexiconMatcherModel.pretrained("lexicon_clinical").files_folder()
    for location in ("clinical/models", "public/models"):
        model = LexiconMatcherModel.pretrained("lexicon_clinical", "en", location)
        assert model.files_folder() == bundled
    ner = NerDLModel.pretrained("ner_clinical", lang="en", remote_loc="clinical/models")
    assert ner.getInputCols() == ["sentence", "token", "embeddings"]
    # An unknown name lists the bundled ones, whatever the repository named.
    with pytest.raises(
        ValueError, match=r"unknown pretrained tagger 'ner_jsl'; available: \['ner_bc5cdr', "
    ):
        NerDLModel.pretrained("ner_jsl", "en", "clinical/models")
    with pytest.raises(ValueError, match=r"remote_loc='s3://models': sparkner downloads nothing"):
        LexiconMatcherModel.pretrained("lexicon_clinical", "en", "s3://models")
    with pytest.raises(ValueError, match=r"lang='de': sparkner's bundled models are English"):
        LexiconMatcherModel.pretrained("lexicon_clinical", "de", "clinical/models")
