"""LexiconMatcher / LexiconMatcherModel as stages: bundled and fitted lexicons, Spark and the
LightPipeline alike, saved and loaded, bad term files named."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline, PipelineModel
from tests_support import assert_offsets_valid

from sparkner import LexiconMatcher, LexiconMatcherModel, LightPipeline
from sparkner.resources import sample_notes

TEXT = "Chest pain and HbA1c checked.\nStarted Metformin 500 mg; echocardiogram normal."


def _matches(annotations) -> list[tuple[str, str]]:
    return [(a.result, a.metadata["entity"]) for a in annotations]


@pytest.fixture(scope="module")
def bundled(text_pipeline_stages) -> PipelineModel:
    return PipelineModel(stages=[*text_pipeline_stages, LexiconMatcherModel.pretrained()])


def test_bundled_lexicon_finds_clinical_terms(bundled):
    found = LightPipeline(bundled).fullAnnotate(TEXT)[0]["lexicon"]
    assert {
        ("Chest pain", "PROBLEM"),
        ("Metformin", "TREATMENT"),
        ("echocardiogram", "TEST"),
    } <= set(_matches(found))
    assert_offsets_valid(TEXT, found)
    assert [a.metadata["chunk"] for a in found] == [str(i) for i in range(len(found))]


@pytest.mark.slow
def test_spark_and_light_pipeline_agree_on_the_sample_notes(spark, bundled):
    notes = [*sample_notes().values(), "", None]
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string")
    rows = bundled.transform(frame.repartition(2)).orderBy("id").select("lexicon").collect()
    spark_rows = [
        [(a.begin, a.end, a.result, a.metadata["entity"]) for a in r.lexicon] for r in rows
    ]
    light = LightPipeline(bundled).fullAnnotate(notes)
    assert spark_rows == [
        [(a.begin, a.end, a.result, a.metadata["entity"]) for a in row["lexicon"]] for row in light
    ]
    assert sum(map(len, spark_rows)) > 20
    for text, row in zip(notes[:-2], light, strict=False):
        assert_offsets_valid(text, row["lexicon"])


@pytest.mark.slow
def test_a_fitted_lexicon_saved_and_loaded(spark, text_pipeline_stages, tmp_path):
    path = tmp_path / "terms.tsv"
    path.write_text("DRUG\tmetformin\nDRUG\tinsulin glargine\nSIGN\tchest pain\n")
    matcher = LexiconMatcher().setTermsPath(str(path)).setTerms({"SIGN": ["HbA1c"]})
    frame = spark.createDataFrame([(TEXT,)], "text string")
    model = Pipeline(stages=[*text_pipeline_stages, matcher]).fit(frame)
    expected = [("Chest pain", "SIGN"), ("HbA1c", "SIGN"), ("Metformin", "DRUG")]
    assert _matches(LightPipeline(model).fullAnnotate(TEXT)[0]["lexicon"]) == expected
    model.write().save(str(tmp_path / "saved"))
    loaded = PipelineModel.load(str(tmp_path / "saved"))
    assert sorted(loaded.stages[-1].classes()) == ["DRUG", "SIGN"]
    row = loaded.transform(frame).select("lexicon").first()
    assert [(a.result, a.metadata["entity"]) for a in row.lexicon] == expected


def test_bad_term_files_are_named(spark, text_pipeline_stages, tmp_path):
    frame = spark.createDataFrame([(TEXT,)], "text string")
    bad = tmp_path / "bad.tsv"
    bad.write_text("DRUG\taspirin\njust a line\n")
    with pytest.raises(ValueError, match=r"bad.tsv, line 2: expected 'class<TAB>term'"):
        Pipeline(stages=[*text_pipeline_stages, LexiconMatcher(termsPath=str(bad))]).fit(frame)
    with pytest.raises(ValueError, match="no terms"):
        Pipeline(stages=[*text_pipeline_stages, LexiconMatcher()]).fit(frame)


def test_same_terms_under_other_class_names_are_another_lexicon(text_pipeline_stages, tmp_path):
    """The models' files are loaded once per process and fingerprint: two lexicons of the
    same terms whose classes are named otherwise must not share what was loaded."""
    from sparkner.lexicon.store import write_lexicon

    write_lexicon(tmp_path / "a", {"DRUG": ["metformin"]})
    write_lexicon(tmp_path / "b", {"MEDICATION": ["metformin"]})
    found = []
    for folder in ("a", "b", "a"):
        model = LexiconMatcherModel().attach_files(tmp_path / folder)
        rows = LightPipeline([*text_pipeline_stages, model]).fullAnnotate(TEXT)
        found.append(_matches(rows[0]["lexicon"]))
    drug, medication = [("Metformin", "DRUG")], [("Metformin", "MEDICATION")]
    assert found == [drug, medication, drug]
