"""ChunkResolverModel / ChunkResolverApproach as stages: a resolver built from a term file,
Spark and the LightPipeline alike, null and empty rows, chunks of other types passed over,
Spark NLP's metadata, the bundled resolvers and resolved pipeline, bad settings refused.
(The engine itself: tests/resolution/.)"""

from __future__ import annotations

import pytest
from pyspark.ml import PipelineModel
from tests_support import assert_offsets_valid

from sparkner import ChunkResolverApproach, ChunkResolverModel, LightPipeline
from sparkner.annotators.chunk_resolver import _read_terms

NOTE = (
    "History of chronic obstructive pulmonary disease (COPD) and hypertension. "
    "The patient was given aspirin. COPD is worse today. She denies fever."
)
METADATA = {
    "target_text",
    "resolved_text",
    "confidence",
    "distance",
    "all_k_results",
    "all_k_resolutions",
    "all_k_distances",
    "vocabulary",
    "chunk",
    "sentence",
    "entity",
}


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="threshold must be in"):
        ChunkResolverModel().setThreshold(1.5)
    with pytest.raises(ValueError, match="neighbours must be at least 1"):
        ChunkResolverModel(neighbours=0)
    assert ChunkResolverModel().getComposites() is False  # one code per chunk by default
    assert ChunkResolverModel().setComposites(True).getComposites() is True
    with pytest.raises(ValueError, match="unknown pretrained resolver"):
        ChunkResolverModel.pretrained("no_such_resolver")
    path = tmp_path / "codes.tsv"
    path.write_text("I10\tHypertension\nno tab here\n")
    with pytest.raises(ValueError, match=r"codes.tsv, line 2: expected 'code<TAB>term'"):
        _read_terms(str(path))
    with pytest.raises(FileNotFoundError, match="termsPath"):
        _read_terms(str(tmp_path / "missing.tsv"))


@pytest.mark.slow
def test_a_resolver_of_ones_own_codes_runs_alike_on_spark_and_the_light_pipeline(
    spark, clinical, tmp_path
):
    path = tmp_path / "codes.tsv"
    path.write_text(
        "J44.9\tChronic obstructive pulmonary disease\n"
        "I10\tEssential hypertension\nI10\thypertension\n"
        "R50.9\tFever, unspecified\n"
    )
    frame = spark.createDataFrame([(0, NOTE)], "id int, text string")
    annotated = clinical.model.transform(frame)
    approach = ChunkResolverApproach(
        termsPath=str(path), vocabularyName="MY-CODES", entityTypes=["PROBLEM"], threshold=0.3
    )
    model = approach.fit(annotated)
    assert isinstance(model, ChunkResolverModel) and model.vocabulary() == "MY-CODES"
    assert model.getEntityTypes() == ["PROBLEM"] and model.getThreshold() == 0.3
    pipeline = PipelineModel(stages=[*clinical.model.stages, model])
    notes = [NOTE, "", None, "Nothing to see."]
    rows = (
        pipeline.transform(spark.createDataFrame(list(enumerate(notes)), "id int, text string"))
        .orderBy("id")
        .collect()
    )
    light = LightPipeline(pipeline).fullAnnotate(notes)
    spark_rows = [
        [(a.begin, a.end, a.result, dict(a.metadata)) for a in r.resolution] for r in rows
    ]
    light_rows = [[(a.begin, a.end, a.result, a.metadata) for a in r["resolution"]] for r in light]
    assert spark_rows == light_rows
    assert spark_rows[1:] == [[], [], []]
    codes = {metadata["target_text"]: code for _, _, code, metadata in spark_rows[0]}
    assert codes.get("hypertension") == "I10"
    assert "aspirin" not in codes  # a TREATMENT: passed over
    for annotation in light[0]["resolution"]:
        assert set(annotation.metadata) >= METADATA
        assert annotation.annotatorType == "entity"
        assert annotation.metadata["entity"] == "PROBLEM"
        assert annotation.metadata["vocabulary"] == "MY-CODES"
    assert_offsets_valid(
        NOTE, [{"begin": b, "end": e, "result": m["target_text"]} for b, e, _, m in spark_rows[0]]
    )


@pytest.mark.slow
def test_the_resolved_pipeline_codes_problems_and_drugs():
    from sparkner.apps.pretrained import PretrainedPipeline

    pipeline = PretrainedPipeline("ner_clinical_resolved_pipeline")
    (row,) = pipeline.fullAnnotate([NOTE])
    problems = {a.metadata["target_text"]: a for a in row["icd10cm_code"]}
    drugs = {a.metadata["target_text"]: a for a in row["drug_code"]}
    assert problems["hypertension"].result == "I10"
    assert problems["hypertension"].metadata["vocabulary"] == "ICD-10-CM"
    assert drugs["aspirin"].result == "DB00945"
    assert drugs["aspirin"].metadata["aux"] == "R16CO5Y76E"  # its UNII
    # COPD, defined in the note, is coded as its long form.
    later = [a for a in row["icd10cm_code"] if a.begin == NOTE.rindex("COPD")]
    assert later and later[0].result.startswith("J44")
    assert pipeline.annotate("")["icd10cm_code"] == []


@pytest.mark.slow
def test_the_readme_example_runs_as_written(capsys):
    import re

    from tests_support import REPO

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Codes for chunks: ChunkResolverModel", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    shown = re.findall(r"^# (.*)$", code, flags=re.M)  # the comments show what is printed
    assert shown and printed == shown
