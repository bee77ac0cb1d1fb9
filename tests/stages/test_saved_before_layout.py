"""A pipeline saved by sparkner 0.1.0 before the package was laid out by role still loads:
saved metadata names stage classes by module (``sparkner.annotators.tokenizer.Tokenizer``),
so those modules keep their paths. ``data/text_pipeline_0_1_0`` was written by that version
(``PipelineModel.write().save``; checksums left out)."""

from __future__ import annotations

from pathlib import Path

from sparkner.pretrained import PretrainedPipeline

SAVED = Path(__file__).resolve().parent / "data" / "text_pipeline_0_1_0"


def test_a_pipeline_saved_before_the_layout_loads_with_its_params(spark):
    pipeline = PretrainedPipeline.from_disk(SAVED)
    stages = pipeline.model.stages
    assert [type(s).__module__ for s in stages] == [
        "sparkner.annotators.document_assembler",
        "sparkner.annotators.sentence_detector",
        "sparkner.annotators.tokenizer",
        "sparkner.annotators.finisher",
    ]
    assert stages[1].getDetectLists() is False
    assert stages[2].getMinLength() == 2
    frame = spark.createDataFrame([("Pt denies chest pain. BP 120/80, HR 72.",)], ["text"])
    tokens = pipeline.model.transform(frame).select("tokens").first()[0]
    assert tokens == ["Pt", "denies", "chest", "pain", "BP", "120/80", "HR", "72"]
