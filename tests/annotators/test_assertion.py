"""AssertionModel as a stage: the pretrained pipeline asserts its chunks, Spark and the
LightPipeline agree, a saved pipeline asserts the same in a new process, bad settings are
refused. (The rules themselves: tests/assertion/.)"""

from __future__ import annotations

import json

import pytest
from pyspark.ml import PipelineModel
from tests_support import result_of_new_process

from sparkner import AssertionModel, LightPipeline
from sparkner.resources import sample_notes

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow

NOTE = (
    "The patient denies fever. Chest CT showed pneumonia. Mother had breast cancer. "
    "Return if chills develop."
)


def _asserted(row) -> list[tuple[str, str]]:
    by_chunk = {a.metadata["chunk"]: a for a in row["assertion"]}
    return [(c.result, by_chunk[str(i)].result) for i, c in enumerate(row["ner_chunk"])]


def test_the_clinical_pipeline_asserts_every_chunk(clinical):
    (row,) = clinical.fullAnnotate(NOTE)
    assert len(row["assertion"]) == len(row["ner_chunk"])
    for chunk, assertion in zip(row["ner_chunk"], row["assertion"], strict=True):
        assert (assertion.begin, assertion.end) == (chunk.begin, chunk.end)
        assert set(assertion.metadata) >= {"chunk", "sentence", "confidence"}
    asserted = dict(_asserted(row))
    assert asserted["fever"] == "absent"
    assert asserted["pneumonia"] == "present"
    assert asserted["breast cancer"] == "associated_with_someone_else"
    assert clinical.annotate(NOTE)["assertion"] == [a.result for a in row["assertion"]]


def test_spark_and_light_pipeline_assert_alike(spark, clinical):
    notes = [*sample_notes().values(), NOTE, "", None]
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string")
    rows = clinical.transform(frame.repartition(3)).orderBy("id").collect()
    spark_rows = [
        [(a.begin, a.end, a.result, a.metadata["chunk"]) for a in r.assertion] for r in rows
    ]
    light = clinical.fullAnnotate(notes)
    assert spark_rows == [
        [(a.begin, a.end, a.result, a.metadata["chunk"]) for a in row["assertion"]] for row in light
    ]
    assert {"absent", "present"} <= {a[2] for row in spark_rows for a in row}


def test_a_saved_pipeline_asserts_the_same_in_a_new_process(spark, clinical, tmp_path):
    stages = [*clinical.model.stages[:-1], AssertionModel.pretrained().setScopeWindow([2, 3])]
    model = PipelineModel(stages=stages)
    model.write().save(str(tmp_path / "saved"))
    expected = [_asserted(row) for row in LightPipeline(model).fullAnnotate([NOTE])]
    script = f"""
import json, sparkner
from sparkner import LightPipeline
from sparkner.apps.pretrained import PretrainedPipeline
spark = sparkner.start(master="local[1]")
model = PretrainedPipeline.from_disk({str(tmp_path / "saved")!r}).model
assert model.stages[-1].getScopeWindow() == [2, 3]
light = LightPipeline(model).fullAnnotate([{NOTE!r}])
frame = spark.createDataFrame([({NOTE!r},)], "text string")
row = model.transform(frame).first()
pairs = lambda chunks, asserted: [[c.result, a.result] for c, a in zip(chunks, asserted)]
print("RESULT=" + json.dumps([pairs(light[0]["ner_chunk"], light[0]["assertion"]),
                              pairs(row.ner_chunk, row.assertion)]))
"""
    light, on_spark = json.loads(result_of_new_process(script))
    assert light == on_spark == [list(p) for p in expected[0]]


def test_bad_scope_windows_and_rule_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="scopeWindow must be empty"):
        AssertionModel().setScopeWindow([0, 3])
    with pytest.raises(ValueError, match="scopeWindow must be empty"):
        AssertionModel(scopeWindow=[1, 2, 3])
    (tmp_path / "context_rules.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match=r"context_rules\.json: not a"):
        AssertionModel().attach_files(tmp_path)
    with pytest.raises(ValueError, match="unknown pretrained assertion rules 'nope'"):
        AssertionModel.pretrained("nope")


def test_spark_and_light_pipeline_agree_with_a_section_column(spark, clinical):
    from sparkner import SectionDetector

    stages = list(clinical.model.stages[:-1])
    if not any(isinstance(s, SectionDetector) for s in stages):
        stages.append(SectionDetector())
    assertion = AssertionModel.pretrained().setInputCols(
        ["sentence", "token", "ner_chunk", "section"]
    )
    model = PipelineModel(stages=[*stages, assertion])
    note = "FAMILY HISTORY: Mother had breast cancer. PLAN: MRI of the brain. " + NOTE
    notes = [note, *sample_notes().values(), "", None]
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string")
    rows = model.transform(frame.repartition(2)).orderBy("id").collect()
    on_spark = [
        [(a.begin, a.end, a.result, a.metadata["confidence"]) for a in r.assertion] for r in rows
    ]
    light = LightPipeline(model).fullAnnotate(notes)
    assert on_spark == [
        [(a.begin, a.end, a.result, a.metadata["confidence"]) for a in row["assertion"]]
        for row in light
    ]
    first = dict(_asserted(light[0]))
    assert first["breast cancer"] == "associated_with_someone_else"
