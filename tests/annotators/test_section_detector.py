"""SectionDetector as a stage: params, Spark and the LightPipeline give the same sections."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline

from sparkner.annotator import SectionDetector
from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.annotation import SECTION

NOTE = (
    "Dictated by Dr. Smith.\n"
    "CHIEF COMPLAINT: Cough.\n"
    "HPI: Three days of fever.\n"
    "PHYSICAL EXAMINATION\n"
    "HEENT: Normal.\n"
    "EXTREMITIES: No edema.\n"
    "A/P: Pneumonia.,PLAN:, Antibiotics.\n"
)
NOTES = [NOTE, "", None, "No headers at all.", "MEDS: aspirin.,ALLERGIES:,NKDA."]


def rows(annotations) -> list[tuple]:
    return [
        (a.begin, a.end, a.result, a.metadata["header_begin"], a.metadata["header_end"])
        for a in annotations
    ]


def test_defaults_and_params():
    stage = SectionDetector()
    assert stage.getInputCols() == ["document"]
    assert stage.getOutputCol() == "section"
    assert stage.output_annotator_type == SECTION
    assert stage.getCustomHeaders() == []
    assert stage.getIncludeUnknownHeaders() is False
    stage.setCustomHeaders([" HEENT = heent "])
    assert stage.getCustomHeaders() == ["HEENT = heent"]


@pytest.mark.parametrize("bad", [["HEENT"], ["HEENT=Heent"], ["=x"], ["HEENT="]])
def test_bad_custom_headers_are_refused(bad):
    with pytest.raises((ValueError, TypeError), match="customHeaders"):
        SectionDetector().setCustomHeaders(bad)


def test_light_pipeline_sections():
    light = LightPipeline([DocumentAssembler(), SectionDetector()])
    found = light.fullAnnotate(NOTE)[0]["section"]
    assert [a.result for a in found] == [
        "chief_complaint",
        "history_of_present_illness",
        "physical_exam",
        "assessment_and_plan",
        "plan",
    ]
    exam = found[2]
    assert NOTE[exam.begin : exam.end + 1] == (
        "PHYSICAL EXAMINATION\nHEENT: Normal.\nEXTREMITIES: No edema."
    )
    for a in found:
        assert a.annotatorType == SECTION and a.metadata["section"] == a.result
        header = NOTE[int(a.metadata["header_begin"]) : int(a.metadata["header_end"]) + 1]
        assert header == a.metadata["header"] and a.begin == int(a.metadata["header_begin"])
    assert light.annotate("") == {"document": [], "section": []}


def test_light_pipeline_params():
    light = LightPipeline(
        [
            DocumentAssembler(),
            SectionDetector(includeUnknownHeaders=True, customHeaders=["HPI=hpi"]),
        ]
    )
    names = [a.result for a in light.fullAnnotate(NOTE)[0]["section"]]
    assert names == [
        "chief_complaint",
        "hpi",
        "physical_exam",
        "heent",
        "extremities",
        "assessment_and_plan",
        "plan",
    ]


@pytest.mark.slow
def test_spark_and_light_pipeline_agree(spark):
    stages = [DocumentAssembler(), SectionDetector().setIncludeUnknownHeaders(True)]
    frame = spark.createDataFrame(list(enumerate(NOTES)), "id int, text string")
    model = Pipeline(stages=stages).fit(frame)
    out = model.transform(frame.repartition(2)).orderBy("id")
    field = out.schema["section"]
    assert field.metadata.get("annotatorType") == SECTION
    spark_rows = [rows(r.section) for r in out.select("section").collect()]
    light = LightPipeline(model).fullAnnotate(NOTES)
    assert spark_rows == [rows(row["section"]) for row in light]
    assert [len(r) for r in spark_rows] == [7, 0, 0, 0, 2]
