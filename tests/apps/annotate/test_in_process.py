"""The job in-process (a small local input, no Spark) against the Spark job: the same table
(columns, types, rows) and the same summary, from each input format to each output format,
with null and empty notes, assertions, sections and resolvers."""

from __future__ import annotations

import os

import pytest
from annotate_support import COLUMNS, NOTES, write_notes

from sparkner.apps.annotate import (
    TEMP_MARKER,
    AnnotateJob,
    annotate,
    annotate_in_process,
    small_local_notes,
)

# Spark jobs with the bundled models: the full suite runs these.
pytestmark = pytest.mark.slow

ALL_NOTES = [
    *NOTES,
    ("a-6", "She denies chest pain. Mother had breast cancer."),
    ("s-1", "Seen for fever.\nMEDICATIONS: aspirin, metformin.\nASSESSMENT: Pneumonia."),
    ("s-3", "Hx: chest pain.,PLAN:, Start heparin. Chest x-ray."),
    ("r-1", "Hx: hypertension and type 2 diabetes.,MEDICATIONS:, Metformin and lisinopril."),
    ("r-3", "   "),
]
# What a run's summary may differ in: its times, where it wrote, how it ran.
_RUN_FIELDS = {"seconds", "startup_seconds", "tokens_per_second", "output", "in_process"}


def _table(spark, path: str, fmt: str):
    reader = spark.read.format(fmt)
    if fmt == "csv":  # notes (and chunks) may span lines
        reader = reader.options(header=True, multiLine=True, escape='"')
    table = reader.load(path)
    return table.schema, [row.asDict() for row in table.collect()]


def _same_rows(spark_rows: list[dict], local_rows: list[dict]) -> None:
    """The same rows in any order; confidences within 1e-3 (a tagger's scores move in their
    last bits with the sentences batched beside them: Spark's partitions batch them otherwise)."""

    def key(row):
        return tuple(str(v) for k, v in sorted(row.items()) if k != "confidence")

    assert len(spark_rows) == len(local_rows) and spark_rows
    for ours, theirs in zip(sorted(spark_rows, key=key), sorted(local_rows, key=key), strict=True):
        assert key(ours) == key(theirs)
        assert abs(float(ours["confidence"]) - float(theirs["confidence"])) <= 1e-3


def _both(spark, tmp_path, job: AnnotateJob):
    """The Spark job's table, schema and summary, then the in-process job's."""
    spark_job = AnnotateJob(**{**vars(job), "output": str(tmp_path / "spark")})
    local_job = AnnotateJob(**{**vars(job), "output": str(tmp_path / "local")})
    for each in (spark_job, local_job):
        each.check()
    by_spark = annotate(spark, spark_job, progress=None)
    notes = small_local_notes(local_job)
    assert notes is not None, "a small local input runs in-process"
    in_process = annotate_in_process(local_job, notes, progress=None)
    assert in_process.in_process and not by_spark.in_process
    assert any("in-process, without Spark" in line for line in in_process.lines())
    assert not [n for n in os.listdir(tmp_path) if TEMP_MARKER in n]
    assert "_SUCCESS" in os.listdir(local_job.output)
    fmt = job.output_format
    spark_schema, spark_rows = _table(spark, spark_job.output, fmt)
    local_schema, local_rows = _table(spark, local_job.output, fmt)
    assert local_schema == spark_schema
    _same_rows(spark_rows, local_rows)
    summaries = [
        {k: v for k, v in s.as_dict().items() if k not in _RUN_FIELDS}
        for s in (by_spark, in_process)
    ]
    assert summaries[0] == summaries[1]
    return spark_schema, spark_rows, by_spark


@pytest.mark.parametrize(
    ("source", "target"),
    [("parquet", "parquet"), ("csv", "csv"), ("json", "json"), ("csv", "parquet"), ("json", "csv")],
)
def test_the_same_table_as_spark(spark, tmp_path, source, target):
    job = AnnotateJob(
        write_notes(tmp_path, source, ALL_NOTES),
        "unused",
        text_col="note",
        id_col="note_id",
        output_format=target,
    )
    schema, rows, summary = _both(spark, tmp_path, job)
    assert summary.rows_read == len(ALL_NOTES)
    if target == "json":  # Spark sorts a JSON file's columns
        assert sorted(schema.names) == sorted(COLUMNS)
    else:
        assert schema.names == COLUMNS
    texts = dict(ALL_NOTES)
    for row in rows:
        begin, end = int(row["begin"]), int(row["end"])
        assert texts[row["note_id"]][begin : end + 1].strip() == row["chunk"].strip()
    # Assertions and sections came through: these notes have both kinds.
    assert {"absent", "associated_with_someone_else"} <= {r["assertion"] for r in rows}
    assert {"medications", "plan", None} <= {r["section"] for r in rows}


def test_generated_row_ids_are_sparks(spark, tmp_path):
    job = AnnotateJob(write_notes(tmp_path, "json", ALL_NOTES), "unused", text_col="note")
    schema, rows, _ = _both(spark, tmp_path, job)
    assert schema.names[0] == "row_id" and schema["row_id"].dataType.simpleString() == "bigint"
    assert {r["row_id"] for r in rows} <= set(range(len(ALL_NOTES)))


def test_resolve_gives_the_same_codes(spark, tmp_path):
    job = AnnotateJob(
        write_notes(tmp_path, "parquet", ALL_NOTES),
        "unused",
        text_col="note",
        id_col="note_id",
        resolve=("icd10cm", "drugs"),
    )
    schema, rows, summary = _both(spark, tmp_path, job)
    assert schema.names[-3:] == ["code", "vocabulary", "concept_name"]
    assert 0 < summary.entities_coded < len(rows)
    assert {r["entity"] for r in rows if r["code"]} >= {"PROBLEM", "TREATMENT"}


def test_no_entities_at_all(spark, tmp_path):
    """Notes with nothing to find: an empty table of the same columns, in every format."""
    notes = [("n-1", None), ("n-2", ""), ("n-3", "12345 !!!")]
    for fmt in ("parquet", "csv", "json"):
        folder = tmp_path / fmt
        folder.mkdir()
        job = AnnotateJob(
            write_notes(folder, "parquet", notes),
            str(folder / "local"),
            text_col="note",
            id_col="note_id",
            output_format=fmt,
        )
        job.check()
        local = small_local_notes(job)
        assert local is not None
        summary = annotate_in_process(job, local, progress=None)
        assert summary.rows_read == 3 and summary.entities == summary.notes_with_entities == 0
        if fmt == "parquet":  # the others have no schema to read from an empty file
            assert spark.read.parquet(job.output).columns[:3] == ["note_id", "chunk", "entity"]
        assert spark.read.option("header", True).format(fmt).load(job.output).count() == 0
