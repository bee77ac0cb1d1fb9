"""The ``sparkner annotate`` job: input formats, checks, the entity table, commit by rename."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from pyspark.sql import functions as F

from sparkner.apps.annotate_job import (
    TEMP_MARKER,
    AnnotateJob,
    HadoopFiles,
    annotate,
    detect_format,
    read_notes,
)

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow

NOTES = [
    ("a-1", "Fever and cough for two days. Chest CT showed pneumonia; started ceftriaxone."),
    ("a-2", None),
    ("a-3", ""),
    ("a-4", "12345 !!!"),
    ("a-5", 'She takes "metformin" for diabetes,\nand an MRI of the brain was normal.'),
]
COLUMNS = ["note_id", "chunk", "entity", "begin", "end", "sentence", "confidence", "assertion"]


def _write(tmp_path, fmt: str, notes=NOTES):
    frame = pd.DataFrame(notes, columns=["note_id", "note"])
    path = tmp_path / f"notes.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return str(path)


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
        _write(tmp_path, "parquet"), str(tmp_path / "out"), text_col="note", id_col="note_id"
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
        _write(tmp_path, "csv"),
        str(tmp_path / "out"),
        text_col="note",
        output_format="json",
        partitions=3,
    )
    summary = annotate(spark, job, progress=None)
    table = spark.read.json(job.output)
    assert set(table.columns) == {"row_id", *COLUMNS[1:]}
    assert table.count() == summary.entities and summary.rows_read == len(NOTES)
    # Quotes and a line break inside a CSV field are part of the note: "MRI", after both,
    # is found at its offset in the whole note.
    note = dict(NOTES)["a-5"]
    mri = [(r.begin, r.end) for r in table.collect() if r.chunk == "MRI"]
    assert mri == [(note.index("MRI"), note.index("MRI") + 2)]


def test_same_table_whatever_the_partitioning(spark, tmp_path):
    source = _write(tmp_path, "json")
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


def test_detect_format(tmp_path):
    assert detect_format("notes.parquet") == "parquet"
    assert detect_format("x/part-0000.snappy.parquet") == "parquet"
    assert detect_format("notes.jsonl.gz") == "json"
    assert detect_format("NOTES.CSV") == "csv"
    assert detect_format("a.orc") == "orc"
    with pytest.raises(ValueError, match="give --input-format"):
        detect_format("notes.txt")
    folder = tmp_path / "table"
    folder.mkdir()
    for name in ("part-0.parquet", "part-1.parquet", "_SUCCESS", ".part-0.parquet.crc"):
        (folder / name).write_text("")
    assert detect_format(str(folder)) == "parquet"
    (folder / "part-2.csv").write_text("")
    with pytest.raises(ValueError, match=r"formats \['csv', 'parquet'\]; give --input-format"):
        detect_format(str(folder))


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"input": "missing.parquet"}, FileNotFoundError, "input missing.parquet: no such file"),
        ({"output_format": "xml"}, ValueError, "--format 'xml'"),
        ({"input_format": "xls"}, ValueError, "--input-format 'xls'"),
        ({"partitions": 0}, ValueError, "--partitions 0"),
        ({"output": "EXISTING"}, FileExistsError, "exists; pass --overwrite"),
        ({"output": "INPUT", "overwrite": True}, ValueError, "is the input"),
    ],
)
def test_settings_checked_before_spark(tmp_path, monkeypatch, changes, error, message):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"text": ["x"]}).to_parquet("in.parquet")
    os.mkdir("EXISTING")
    settings = {"input": "in.parquet", "output": "out", **changes}
    settings["output"] = "in.parquet" if settings["output"] == "INPUT" else settings["output"]
    with pytest.raises(error, match=message):
        AnnotateJob(**settings).check()


def test_column_errors_name_the_column_not_the_text(spark, tmp_path):
    marker = "MARKER-PATIENT-TEXT-7391"
    source = _write(tmp_path, "parquet", [("x", marker)])
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
    job = AnnotateJob(_write(tmp_path, "parquet"), str(tmp_path / "o"), model="ner_nothing")
    with pytest.raises(ValueError, match="unknown pretrained pipeline 'ner_nothing'"):
        annotate(spark, job, progress=None)


def test_failed_write_keeps_the_old_output_and_leaves_no_temporary(spark, tmp_path):
    output = str(tmp_path / "table")
    files = HadoopFiles(spark)
    files.write_committed(spark.range(3), output, "parquet", overwrite=False)
    stale = tmp_path / f"table{TEMP_MARKER}deadbeef"  # left by a killed run
    stale.mkdir()
    failing = spark.range(10).select(
        F.when(F.col("id") == 7, F.raise_error(F.lit("injected failure"))).otherwise(F.col("id"))
    )
    with pytest.raises(Exception, match="injected failure"):
        files.write_committed(failing, output, "parquet", overwrite=True)
    assert sorted(r.id for r in spark.read.parquet(output).collect()) == [0, 1, 2]
    assert [n for n in os.listdir(tmp_path) if TEMP_MARKER in n] == []
    files.write_committed(spark.range(5), output, "parquet", overwrite=True)
    assert spark.read.parquet(output).count() == 5
    assert os.path.exists(os.path.join(output, "_SUCCESS"))


def test_one_udf_for_the_pipeline_same_table_as_stage_by_stage(spark, tmp_path, monkeypatch):
    import sparkner.apps.annotate_job as job_module

    source = _write(tmp_path, "parquet")
    tables = {}
    for fused in (True, False):
        monkeypatch.setattr(job_module, "has_arrow_udf", lambda fused=fused: fused)
        out = str(tmp_path / f"out-{fused}")
        summary = annotate(
            spark, AnnotateJob(source, out, text_col="note", id_col="note_id"), progress=None
        )
        tables[fused] = (summary.tokens, sorted(map(tuple, spark.read.parquet(out).collect())))
    assert tables[True] == tables[False] and tables[True][1]
    # The whole pipeline is one UDF, evaluated once per row.
    pipeline = job_module.load_pipeline("ner_clinical")
    notes = spark.read.parquet(source)
    monkeypatch.setattr(job_module, "has_arrow_udf", lambda: True)
    frame = job_module.chunks_and_token_counts(spark, pipeline, notes, "note", "note_id")
    plan = frame._jdf.queryExecution().executedPlan().toString()
    assert plan.count("SparknerPipeline(") == 1 and "NerDLModel" not in plan


@pytest.mark.slow
def test_local1_equals_local2_equals_light_pipeline(spark, tmp_path):
    """The same entity table from a local[1] job in its own JVM, this local[2] session and
    the LightPipeline (confidences to their 4 printed decimals)."""
    import subprocess
    import sys

    from sparkner.apps.pretrained import PretrainedPipeline

    source = _write(tmp_path, "parquet")
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
    expected = sorted(
        (
            note_id,
            c.begin,
            c.end,
            c.result,
            c.metadata["entity"],
            int(c.metadata["sentence"]),
            round(float(c.metadata["confidence"]), 4),
        )
        for (note_id, _), row in zip(NOTES, light, strict=True)
        for c in row["ner_chunk"]
    )
    assert table(one) == table(two) == expected and expected


def test_the_assertion_column_is_the_light_pipelines(spark, tmp_path):
    from sparkner.apps.pretrained import PretrainedPipeline

    notes = [*NOTES, ("a-6", "She denies chest pain. Mother had breast cancer.")]
    job = AnnotateJob(
        _write(tmp_path, "parquet", notes), str(tmp_path / "out"), text_col="note", id_col="note_id"
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
