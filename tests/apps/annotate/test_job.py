"""The ``sparkner annotate`` job: the entity table and its counts from each input format, column
checks, and the same table as the LightPipeline's."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from annotate_support import COLUMNS, NOTES, write_notes
from tests_support import light_entity_rows

from sparkner.apps.annotate import TEMP_MARKER, AnnotateJob, annotate, read_notes

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow


def _check_table(spark, output: str, fmt: str = "parquet") -> list:
    reader = spark.read.option("header", True).option("multiLine", True).option("escape", '"')
    table = reader.format(fmt).load(output)
    assert table.columns == COLUMNS
    rows = table.collect()
    texts = dict(NOTES)
    for row in rows:
        begin, end = int(row.begin), int(row.end)
        assert texts[row.note_id][begin : end + 1] == row.chunk
        assert row.entity in {"PROBLEM", "TEST", "TREATMENT"}
    return rows


def test_parquet_in_parquet_out(spark, tmp_path):
    job = AnnotateJob(
        write_notes(tmp_path, "parquet"), str(tmp_path / "out"), text_col="note", id_col="note_id"
    )
    summary = annotate(spark, job, progress=None)
    rows = _check_table(spark, job.output)
    assert summary.rows_read == len(NOTES)  # null and empty notes count too
    assert summary.notes_with_entities == 2
    assert summary.entities == len(rows) == sum(summary.entities_by_type.values())
    assert set(summary.entities_by_type) == {"PROBLEM", "TEST", "TREATMENT"}
    assert summary.tokens > 20 and summary.tokens_per_second > 0
    found = {(r.note_id, r.chunk, r.entity) for r in rows}
    assert {("a-1", "pneumonia", "PROBLEM"), ("a-1", "ceftriaxone", "TREATMENT")} <= found
    assert spark.read.parquet(job.output).schema["sentence"].dataType.simpleString() == "int"
    assert not [n for n in os.listdir(tmp_path) if TEMP_MARKER in n]
    # Every entity is asserted, and the summary counts them per type and assertion.
    by_assertion = summary.entities_by_assertion
    assert {t: sum(c.values()) for t, c in by_assertion.items()} == summary.entities_by_type
    assert {r.assertion for r in rows} <= set(next(iter(by_assertion.values())))
    assert any(line.strip().startswith("PROBLEM") for line in summary.lines())


def test_csv_in_json_out_and_row_ids(spark, tmp_path):
    job = AnnotateJob(
        write_notes(tmp_path, "csv"),
        str(tmp_path / "out"),
        text_col="note",
        output_format="json",
        partitions=3,
    )
    summary = annotate(spark, job, progress=None)
    table = spark.read.json(job.output)
    # JSON lines keep null fields: the notes have no headers, and the column is still there.
    assert set(table.columns) == {"row_id", *COLUMNS[1:]}
    assert table.count() == summary.entities and summary.rows_read == len(NOTES)
    assert {r.section for r in table.collect()} == {None}
    # Quotes and a line break inside a CSV field are part of the note: the MRI, after both,
    # is found at its offset in the whole note.
    note = dict(NOTES)["a-5"]
    mri = [r for r in table.collect() if r.chunk.startswith("MRI")]
    assert [r.begin for r in mri] == [note.index("MRI")]
    assert note[mri[0].begin : mri[0].end + 1] == mri[0].chunk


def test_same_table_whatever_the_partitioning(spark, tmp_path):
    source = write_notes(tmp_path, "json")
    tables = []
    for partitions in (1, 8):
        out = str(tmp_path / f"out{partitions}")
        annotate(
            spark,
            AnnotateJob(source, out, text_col="note", id_col="note_id", partitions=partitions),
            progress=None,
        )
        tables.append(sorted(map(tuple, spark.read.parquet(out).collect())))
    assert tables[0] == tables[1] and tables[0]


def test_column_errors_name_the_column_not_the_text(spark, tmp_path):
    marker = "MARKER-PATIENT-TEXT-7391"
    source = write_notes(tmp_path, "parquet", [("x", marker)])
    for job, message in [
        (AnnotateJob(source, "o", text_col="body"), r"--text-col 'body': input .* has columns"),
        (AnnotateJob(source, "o", text_col="note", id_col="mrn"), "--id-col 'mrn'"),
    ]:
        job.check()
        with pytest.raises(ValueError, match=message) as caught:
            read_notes(spark, job)
        assert marker not in str(caught.value)
    numbers = tmp_path / "numbers.parquet"
    pd.DataFrame({"text": [1, 2]}).to_parquet(numbers)
    job = AnnotateJob(str(numbers), "o")
    job.check()
    with pytest.raises(ValueError, match=r"--text-col 'text': .* bigint, not string"):
        read_notes(spark, job)


def test_unknown_model(spark, tmp_path):
    job = AnnotateJob(write_notes(tmp_path, "parquet"), str(tmp_path / "o"), model="ner_nothing")
    with pytest.raises(ValueError, match="unknown pretrained pipeline 'ner_nothing'"):
        annotate(spark, job, progress=None)


@pytest.mark.slow
def test_local1_equals_local2_equals_light_pipeline(spark, tmp_path):
    """The same entity table from a local[1] job in its own JVM, this local[2] session and
    the LightPipeline (confidences to their 4 printed decimals)."""
    import subprocess
    import sys

    from sparkner.apps.pretrained import PretrainedPipeline

    source = write_notes(tmp_path, "parquet")
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sparkner.apps.cli",
            "annotate",
            source,
            one,
            "--text-col",
            "note",
            "--id-col",
            "note_id",
            "--master",
            "local[1]",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    annotate(spark, AnnotateJob(source, two, text_col="note", id_col="note_id"), progress=None)

    def table(path):
        rows = spark.read.parquet(path).collect()
        return sorted(
            (r.note_id, r.begin, r.end, r.chunk, r.entity, r.sentence, round(r.confidence, 4))
            for r in rows
        )

    light = PretrainedPipeline().fullAnnotate([text for _, text in NOTES])
    ids = [note_id for note_id, _ in NOTES]
    expected = light_entity_rows(list(zip(ids, light, strict=True)), decimals=4)
    assert table(one) == table(two) == expected and expected


def test_the_assertion_column_is_the_light_pipelines(spark, tmp_path):
    from sparkner.apps.pretrained import PretrainedPipeline

    notes = [*NOTES, ("a-6", "She denies chest pain. Mother had breast cancer.")]
    job = AnnotateJob(
        write_notes(tmp_path, "parquet", notes),
        str(tmp_path / "out"),
        text_col="note",
        id_col="note_id",
    )
    annotate(spark, job, progress=None)
    rows = spark.read.parquet(job.output).collect()
    table = sorted((r.note_id, r.begin, r.end, r.assertion) for r in rows)
    light = PretrainedPipeline().fullAnnotate([text for _, text in notes])
    expected = sorted(
        (note_id, a.begin, a.end, a.result)
        for (note_id, _), row in zip(notes, light, strict=True)
        for a in row["assertion"]
    )
    assert table == expected
    assert {"absent", "associated_with_someone_else"} <= {r[3] for r in table}


SECTIONED_NOTES = [
    ("s-1", "Seen for fever.\nMEDICATIONS: aspirin, metformin.\nASSESSMENT: Pneumonia."),
    ("s-2", None),
    ("s-3", "Hx: chest pain.,PLAN:, Start heparin. Chest x-ray."),
]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_section_column_is_the_chunks_section(spark, tmp_path, fmt):
    from sparkner.apps.pretrained import PretrainedPipeline

    job = AnnotateJob(
        write_notes(tmp_path, "parquet", SECTIONED_NOTES),
        str(tmp_path / "out"),
        text_col="note",
        id_col="note_id",
        output_format=fmt,
    )
    annotate(spark, job, progress=None)
    reader = spark.read.option("header", True).option("multiLine", True).option("escape", '"')
    table = reader.format(fmt).load(job.output)
    assert table.columns == COLUMNS
    got = sorted((r.note_id, int(r.begin), r.section) for r in table.collect())
    light = PretrainedPipeline().fullAnnotate([text for _, text in SECTIONED_NOTES])
    expected = sorted(
        (note_id, c.begin, c.metadata.get("section"))
        for (note_id, _), row in zip(SECTIONED_NOTES, light, strict=True)
        for c in row["ner_chunk"]
    )
    assert got == expected
    sections = {section for *_, section in got}
    assert {"medications", "assessment", "plan"} <= sections
    # "fever", before the first header, is in no section: null (an empty CSV field).
    assert None in sections
    # Drugs in the medication list, as a user filters them.
    drugs = table.where("section = 'medications' AND entity = 'TREATMENT'")
    assert {r.chunk for r in drugs.collect()} == {"aspirin", "metformin"}


def test_no_section_column_without_sections(spark, tmp_path):
    """A pipeline whose chunks do not name their section writes the columns it wrote before."""
    from pyspark.ml import PipelineModel

    from sparkner.annotators.ner_converter import NerConverter
    from sparkner.annotators.section_detector import SectionDetector
    from sparkner.apps.pretrained import PretrainedPipeline

    stages = []
    for stage in PretrainedPipeline().model.stages:
        if isinstance(stage, NerConverter):
            stage = stage.copy().setInputCols(["sentence", "token", "ner"])
        if not isinstance(stage, SectionDetector):
            stages.append(stage)
    saved = str(tmp_path / "saved")
    PipelineModel(stages).write().save(saved)
    job = AnnotateJob(
        write_notes(tmp_path, "parquet", SECTIONED_NOTES),
        str(tmp_path / "out"),
        text_col="note",
        id_col="note_id",
        model=saved,
    )
    annotate(spark, job, progress=None)
    assert spark.read.parquet(job.output).columns == COLUMNS[:-1]


RESOLVED_NOTES = [
    ("r-1", "Hx: hypertension and type 2 diabetes.,MEDICATIONS:, Metformin and lisinopril."),
    ("r-2", None),
    ("r-3", "No findings."),
]


def test_resolve_adds_the_code_of_each_chunk_as_the_light_pipeline_codes_it(spark, tmp_path):
    from sparkner.apps.annotate.pipeline import load_pipeline, resolver_column
    from sparkner.apps.light_pipeline import LightPipeline

    job = AnnotateJob(
        write_notes(tmp_path, "parquet", RESOLVED_NOTES),
        str(tmp_path / "out"),
        text_col="note",
        id_col="note_id",
        resolve=("icd10cm", "drugs"),
    )
    summary = annotate(spark, job, progress=None)
    table = spark.read.parquet(job.output)
    assert table.columns == [*COLUMNS, "code", "vocabulary", "concept_name"]
    rows = table.collect()
    assert summary.entities == len(rows) and 0 < summary.entities_coded <= len(rows)
    assert any(line.strip().startswith("with a code") for line in summary.lines())
    # The same codes as the resolvers give in the LightPipeline, chunk by chunk.
    light = LightPipeline(load_pipeline("ner_clinical", ("icd10cm", "drugs")))
    expected = set()
    for (note_id, _), row in zip(
        RESOLVED_NOTES, light.fullAnnotate([t for _, t in RESOLVED_NOTES]), strict=True
    ):
        codes = {}
        for name in ("drugs", "icd10cm"):  # the first resolver wins: set it last
            for code in row[resolver_column(name)]:
                codes[int(code.metadata["chunk"])] = code
        for index, chunk in enumerate(row["ner_chunk"]):
            code = codes.get(index)
            expected.add(
                (note_id, chunk.begin, code.result if code else None, chunk.metadata["entity"])
            )
    got = {(r.note_id, int(r.begin), r.code, r.entity) for r in rows}
    assert got == expected
    coded = {r.entity: r.vocabulary for r in rows if r.code}
    assert coded.get("PROBLEM", "ICD-10-CM").upper().startswith("ICD")
    assert all(r.code is None or r.concept_name for r in rows)
