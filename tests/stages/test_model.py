"""A new model-backed stage is one small class: the bases do the folder, shipping and saving.

``WordListModel`` below is a complete stage (a folder of files written by the test, a pure
batch function, a param) in well under 50 lines. It runs through Spark, the annotate job's
fused UDF and the LightPipeline, saved and loaded, with the same annotations everywhere.
"""

from __future__ import annotations

import json
import sys
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
from sparkner.runtime.udf import has_arrow_udf
from sparkner.stages.model import FolderModel


# -- the whole stage -----------------------------------------------------------------------
def find_words(tokens: pa.Array, files: FolderLocation, prefix: str) -> pa.Array:
    entities = json.loads((Path(files.resolve()) / "words.json").read_text())
    batch = AnnotationBatch(tokens)
    hits = np.array([w.lower() in entities for w in batch.result], dtype=bool)
    words = [w for w, hit in zip(batch.result, hits, strict=True) if hit]
    counts = np.bincount(batch.row_of()[hits], minlength=batch.num_rows)
    return build_annotations(
        CHUNK,
        np.concatenate([[0], np.cumsum(counts)]),
        batch.begin[hits],
        batch.end[hits],
        words,
        {"entity": [prefix + entities[w.lower()] for w in words]},
    )


class WordListModel(FolderModel):
    input_annotator_types = (DOCUMENT, TOKEN)
    output_annotator_type = CHUNK
    bundled_marker, default_pretrained, files_kind = "words.json", "none", "word list"
    stage_defaults = {"inputCols": ["sentence", "token"], "outputCol": "words"}  # noqa: RUF012
    prefix = declare("prefix", "put before every entity type", default="")

    def check_files(self, folder: str) -> str:
        return str(len(json.loads((Path(folder) / "words.json").read_text())))

    def folder_function(self, files: FolderLocation, spark: object) -> object:
        prefix = self.getPrefix()
        return lambda sentences, tokens: find_words(tokens, files, prefix)


# -------------------------------------------------------------------------------------------
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the executors cannot import it
NOTES = ["Fever and cough.", "", None, "No FEVER. Cough persists; fever again."]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> PipelineModel:
    folder = tmp_path_factory.mktemp("words")
    (folder / "words.json").write_text(json.dumps({"fever": "PROBLEM", "cough": "PROBLEM"}))
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
        rows = model.transform(notes).orderBy("id").select("words").collect()
        assert _rows([r.words for r in rows]) == expected
        assert _light_rows(model) == expected
    if has_arrow_udf():
        fused = pipeline_udf(loaded, spark, ["words"])
        rows = notes.orderBy("id").select(fused(F.col("text")).alias("a")).collect()
        assert _rows([r.a.words for r in rows]) == expected
