"""PretrainedPipeline: the bundled text -> chunk pipelines, offline."""

from __future__ import annotations

import pytest
from tests_support import assert_offsets_valid

from sparkner.apps.pretrained import PretrainedPipeline, available_pipelines
from sparkner.resources import sample_notes

NOTE = (
    "The patient has fever and cough. A chest CT showed pneumonia. He was treated with ceftriaxone."
)

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow


def _entities(annotations) -> set[tuple[str, str]]:
    return {(a.result, a.metadata["entity"]) for a in annotations}


def test_bundled_pipelines_are_listed():
    assert {"ner_clinical_pipeline", "ner_bc5cdr_pipeline"} <= set(available_pipelines())


def test_finds_the_obvious_entities(clinical):
    chunks = clinical.fullAnnotate(NOTE)[0]["ner_chunk"]
    assert {
        ("fever", "PROBLEM"),
        ("cough", "PROBLEM"),
        ("pneumonia", "PROBLEM"),
        ("chest CT", "TEST"),
        ("ceftriaxone", "TREATMENT"),
    } <= _entities(chunks)
    assert all(0.0 < float(c.metadata["confidence"]) <= 1.0 for c in chunks)
    assert clinical.annotate(NOTE)["ner_chunk"] == [c.result for c in chunks]


def test_columns_are_spark_nlps(clinical):
    assert list(clinical.annotate("Fever.")) == [
        "document",
        "sentence",
        "token",
        "embeddings",
        "lexicon",
        "ner",
        "section",
        "ner_chunk",
        "assertion",
    ]


def test_sample_notes_offsets_and_empty_rows(clinical):
    notes = list(sample_notes().values())
    assert len(notes) >= 5
    rows = clinical.fullAnnotate([*notes, "", None, "   "])
    for text, row in zip(notes, rows, strict=False):
        assert row["ner_chunk"], "every sample note names some entity"
        for column in ("token", "ner_chunk"):
            assert_offsets_valid(text, row[column])
    assert [row["ner_chunk"] for row in rows[-3:]] == [[], [], []]


def test_transform_matches_annotate(spark, clinical):
    notes = sample_notes()
    frame = spark.createDataFrame(list(notes.items()), "id string, text string")
    rows = clinical.transform(frame.repartition(3)).select("id", "ner_chunk").collect()
    by_id = {
        row.id: [(c.begin, c.end, c.result, c.metadata["entity"]) for c in row.ner_chunk]
        for row in rows
    }
    light = clinical.fullAnnotate(list(notes.values()))
    for name, row in zip(notes, light, strict=True):
        expected = [(c.begin, c.end, c.result, c.metadata["entity"]) for c in row["ner_chunk"]]
        assert by_id[name] == expected


def test_annotate_a_dataframe_column(spark, clinical):
    frame = spark.createDataFrame([(1, NOTE)], "id int, note string")
    out = clinical.annotate(frame, column="note")
    assert ("ceftriaxone", "TREATMENT") in _entities(out.first().ner_chunk)
    with pytest.raises(ValueError, match="needs column="):
        clinical.annotate(frame)
    both = spark.createDataFrame([(NOTE, "x")], "note string, text string")
    with pytest.raises(ValueError, match="already has a 'text' column"):
        clinical.annotate(both, column="note")


def test_chunks_name_their_section(clinical):
    note = sample_notes()["note-1-admission"]
    (row,) = clinical.fullAnnotate([note])
    names = [s.result for s in row["section"]]
    assert names[:2] == ["history_of_present_illness", "physical_exam"]
    for chunk in row["ner_chunk"]:
        holding = [s.result for s in row["section"] if s.begin <= chunk.begin <= s.end]
        assert chunk.metadata.get("section") == (holding[-1] if holding else None)
    by_section = {c.metadata["section"] for c in row["ner_chunk"]}
    assert {"history_of_present_illness", "physical_exam"} <= by_section
    # Problems in the history, as a user filters them.
    history = [
        c.result
        for c in row["ner_chunk"]
        if c.metadata["section"] == "history_of_present_illness"
        and c.metadata["entity"] == "PROBLEM"
    ]
    assert "hypertension" in history
    # Before the first header, a chunk has no section key.
    (row,) = clinical.fullAnnotate(["Fever and cough.\nPLAN: Chest x-ray."])
    assert "section" not in row["ner_chunk"][0].metadata
    assert row["ner_chunk"][-1].metadata["section"] == "plan"


def test_the_sections_change_no_chunk(clinical, mtsamples_notes):
    """The same chunks (spans, types, confidences, other metadata) as the pipeline without
    the SectionDetector: only the ``section`` key is new."""
    from sparkner.annotators.ner_converter import NerConverter
    from sparkner.annotators.section_detector import SectionDetector
    from sparkner.apps.light_pipeline import LightPipeline

    stages = []
    for stage in clinical.model.stages:
        if isinstance(stage, SectionDetector):
            continue
        if isinstance(stage, NerConverter):
            assert stage.getInputCols() == ["sentence", "token", "ner", "section"]
            stage = stage.copy().setInputCols(["sentence", "token", "ner"])
        stages.append(stage)
    notes = [*sample_notes().values(), *mtsamples_notes[:40], "", None]
    before = LightPipeline(stages).fullAnnotate(notes)
    after = clinical.fullAnnotate(notes)
    named = 0
    for old, new in zip(before, after, strict=True):
        assert list(old) == [c for c in new if c != "section"]
        for a, b in zip(old["ner_chunk"], new["ner_chunk"], strict=True):
            metadata = {k: v for k, v in b.metadata.items() if k != "section"}
            assert (a.begin, a.end, a.result, a.metadata) == (b.begin, b.end, b.result, metadata)
            named += "section" in b.metadata
        # One assertion per chunk still; its label may read the section (an assertion model
        # that uses it), so only the spans are compared.
        assert [(a.begin, a.end, a.metadata["chunk"]) for a in old["assertion"]] == [
            (a.begin, a.end, a.metadata["chunk"]) for a in new["assertion"]
        ]
    assert named > 100


def test_spark_and_fused_chunks_carry_the_same_sections(spark, clinical):
    from pyspark.ml import PipelineModel

    notes = sample_notes()
    frame = spark.createDataFrame(list(notes.items()), "id string, text string")
    light = dict(zip(notes, clinical.fullAnnotate(list(notes.values())), strict=True))
    expected = {
        name: [(c.begin, c.end, c.metadata.get("section")) for c in row["ner_chunk"]]
        for name, row in light.items()
    }
    assert any(section for chunks in expected.values() for *_, section in chunks)
    for transformed in (
        clinical.transform(frame.repartition(2)),  # fused
        PipelineModel(clinical.model.stages).transform(frame),  # stage by stage
    ):
        rows = transformed.select("id", "ner_chunk").collect()
        got = {
            r.id: [(c.begin, c.end, c.metadata.get("section")) for c in r.ner_chunk] for r in rows
        }
        assert got == expected


def test_from_disk_round_trip(tmp_path, clinical):
    clinical.model.write().save(str(tmp_path / "pipeline"))
    loaded = PretrainedPipeline.from_disk(tmp_path / "pipeline")
    assert loaded.annotate(NOTE) == clinical.annotate(NOTE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "ner_nothing_pipeline"}, "unknown pretrained pipeline 'ner_nothing_pipeline'"),
        ({"lang": "de"}, "lang='de'"),
        ({"remote_loc": "s3://models"}, "downloads nothing"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PretrainedPipeline(**kwargs)


@pytest.mark.parametrize("location", ["clinical/models", "public/models"])
def test_spark_nlp_locations_mean_the_bundled_pipeline(clinical, location):
    pipeline = PretrainedPipeline("ner_clinical_pipeline", "en", location)
    assert pipeline.annotate(NOTE)["ner_chunk"] == clinical.annotate(NOTE)["ner_chunk"]


def test_embeddings_are_parsed_only_when_asked(clinical):
    (row,) = clinical.fullAnnotate("Fever.")
    assert all(a.embeddings == [] for column in row.values() for a in column)
    (parsed,) = PretrainedPipeline(parse_embeddings=True).fullAnnotate("Fever.")
    assert [len(a.embeddings) for a in parsed["embeddings"]] == [200, 200]
    assert all(a.embeddings == [] for a in parsed["ner_chunk"])


def test_short_name_and_other_tagger():
    chemicals = PretrainedPipeline("ner_bc5cdr_pipeline")
    (row,) = chemicals.fullAnnotate("Cisplatin caused acute renal failure.")
    found = _entities(row["ner_chunk"])
    assert ("Cisplatin", "Chemical") in found


def test_tags_do_not_depend_on_the_size_of_the_calls(clinical, mtsamples_notes, monkeypatch):
    """One note per call against the default calls of 256 KiB of text (about 87 notes): the
    tagger batches sentences differently, and every tag and chunk stays the same.

    A confidence may move by one unit in its fourth decimal: the matrix products round the
    last bits of a score differently with the shape of the batch (about 1e-6, which crosses
    a rounding boundary for about 1 token in 30,000)."""
    import sparkner.apps.light_pipeline

    notes = [*mtsamples_notes[:120], *sample_notes().values(), "", None]
    default = clinical.fullAnnotate(notes)
    monkeypatch.setattr(sparkner.apps.light_pipeline, "TEXT_BYTES_PER_CALL", 1)
    one_by_one = clinical.fullAnnotate(notes)
    for column in ("ner", "ner_chunk"):
        got = [annotation for row in one_by_one for annotation in row[column]]
        want = [annotation for row in default for annotation in row[column]]
        assert [_without_confidence(a) for a in got] == [_without_confidence(a) for a in want]
        confidences = [
            (float(a.metadata["confidence"]), float(b.metadata["confidence"]))
            for a, b in zip(got, want, strict=True)
        ]
        assert max(abs(a - b) for a, b in confidences) <= 1.5e-4


def _without_confidence(annotation):
    metadata = {k: v for k, v in annotation.metadata.items() if k != "confidence"}
    return annotation.begin, annotation.end, annotation.result, metadata
