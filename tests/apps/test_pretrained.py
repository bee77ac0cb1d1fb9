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


def test_from_disk_round_trip(tmp_path, clinical):
    clinical.model.write().save(str(tmp_path / "pipeline"))
    loaded = PretrainedPipeline.from_disk(tmp_path / "pipeline")
    assert loaded.annotate(NOTE) == clinical.annotate(NOTE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "ner_nothing_pipeline"}, "unknown pretrained pipeline 'ner_nothing_pipeline'"),
        ({"lang": "de"}, "lang='de'"),
        ({"remote_loc": "clinical/models"}, "downloads nothing"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PretrainedPipeline(**kwargs)


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
