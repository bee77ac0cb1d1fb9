"""Which inputs the job runs in-process, and reading them as Spark reads them (no Spark, no
models here; the tables against Spark's are in test_in_process.py)."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from annotate_support import NOTES, write_notes

from sparkner.apps.annotate import AnnotateJob, small_local_notes
from sparkner.apps.annotate.in_process import _csv_field, write_committed, write_part
from sparkner.apps.annotate.paths import TEMP_MARKER, temporary_beside


def _notes(path, **options):
    job = AnnotateJob(str(path), str(path) + ".out", **options)
    job.check()
    return small_local_notes(job)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_each_format_is_read_with_nulls_and_empty_notes(tmp_path, fmt):
    notes = _notes(write_notes(tmp_path, fmt), text_col="note", id_col="note_id")
    assert notes is not None and len(notes) == len(NOTES)
    texts = notes.texts.to_pylist()
    assert texts[0] == NOTES[0][1] and texts[3] == "12345 !!!"
    # A note across lines with doubled quotes (CSV) comes through whole.
    assert texts[4] == NOTES[4][1]
    assert texts[1] is None
    # Spark reads an empty CSV field as null, an empty Parquet or JSON string as itself.
    assert texts[2] == (None if fmt == "csv" else "")
    assert notes.ids.to_pylist() == [i for i, _ in NOTES] and notes.ids.type == pa.string()


def test_csv_as_spark_reads_it(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,text\n007,""\nx," a ""b""\nc "\ny,NA\nz,null\n', encoding="utf-8")
    notes = _notes(path, id_col="id")
    # Every column a string (no type inference: "007" stays), quoted empty is null, and
    # "NA" and "null" are text.
    assert notes.ids.to_pylist() == ["007", "x", "y", "z"]
    assert notes.texts.to_pylist() == [None, ' a "b"\nc ', "NA", "null"]


def test_json_columns_as_spark_infers_them(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text('{"text": "fever", "id": 1}\n{"text": null, "id": 2}\n', encoding="utf-8")
    notes = _notes(path, id_col="id")
    assert notes.ids.type == pa.int64() and notes.texts.to_pylist() == ["fever", None]
    # An ISO date Arrow would read as a timestamp (Spark: a string): Spark reads it.
    path.write_text('{"text": "fever", "id": "2020-01-01"}\n', encoding="utf-8")
    assert _notes(path, id_col="id") is None
    # Spark sorts a JSON file's columns: so does the error.
    path.write_text('{"text": "fever", "id": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"--text-col 'note': .* has columns \['id', 'text'\]"):
        _notes(path, text_col="note")


def test_gzip_is_read_other_compressions_go_to_spark(tmp_path):
    lines = "".join(json.dumps({"text": t}) + "\n" for t in ("fever", "cough"))
    gz = tmp_path / "notes.json.gz"
    gz.write_bytes(gzip.compress(lines.encode()))
    assert _notes(gz).texts.to_pylist() == ["fever", "cough"]
    odd = tmp_path / "notes.json.zst"
    odd.write_bytes(b"whatever")
    assert _notes(odd, input_format="json") is None


def test_what_goes_to_spark(tmp_path):
    source = write_notes(tmp_path, "parquet")
    assert _notes(source, text_col="note") is not None
    # More notes than the limit: the footer says so, nothing else is read.
    job = AnnotateJob(source, str(tmp_path / "o"), text_col="note")
    job.check()
    assert small_local_notes(job, max_rows=len(NOTES) - 1) is None
    assert small_local_notes(job, max_text_bytes=10) is None
    # Another filesystem's paths, or a model on one.
    job = AnnotateJob(source, "hdfs:///o", text_col="note")
    job.check()
    assert small_local_notes(job) is None
    job = AnnotateJob(source, str(tmp_path / "o"), text_col="note", model="s3a://b/model")
    job.check()
    assert small_local_notes(job) is None
    # A partitioned folder (Spark adds the partition columns).
    folder = tmp_path / "parts"
    (folder / "year=2020").mkdir(parents=True)
    pd.DataFrame({"text": ["fever"]}).to_parquet(folder / "year=2020" / "p.parquet")
    assert _notes(folder, input_format="parquet") is None
    # ORC is Spark's.
    orc = tmp_path / "notes.orc"
    orc.write_bytes(b"")
    assert _notes(orc) is None


def test_a_folder_of_files(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for part in range(2):
        frame = pd.DataFrame({"id": [f"{part}-a", f"{part}-b"], "text": ["fever", "cough"]})
        frame.to_parquet(folder / f"part-{part}.parquet")
    (folder / "_SUCCESS").write_text("")
    notes = _notes(folder, id_col="id")
    assert sorted(notes.ids.to_pylist()) == ["0-a", "0-b", "1-a", "1-b"]
    # Without ids, Spark numbers each partition's rows from its own offset: Spark does it.
    assert _notes(folder) is None


def test_column_errors_are_the_spark_paths(tmp_path):
    marker = "MARKER-PATIENT-TEXT-4410"
    source = write_notes(tmp_path, "parquet", [("x", marker)])
    with pytest.raises(ValueError, match=r"--text-col 'body': input .* has columns") as caught:
        _notes(source, text_col="body")
    assert marker not in str(caught.value)
    with pytest.raises(ValueError, match="--id-col 'mrn'"):
        _notes(source, text_col="note", id_col="mrn")
    numbers = tmp_path / "numbers.parquet"
    pd.DataFrame({"text": [1, 2]}).to_parquet(numbers)
    with pytest.raises(ValueError, match=r"--text-col 'text': .* bigint, not string"):
        _notes(numbers)


def test_id_types_the_writer_keeps(tmp_path):
    path = tmp_path / "notes.parquet"
    pd.DataFrame(
        {"text": ["fever"], "score": [0.5], "when": pd.to_datetime(["2020-01-01"])}
    ).to_parquet(path)
    assert _notes(path, id_col="score").ids.type == pa.float64()  # Parquet writes it as is
    job = AnnotateJob(str(path), str(tmp_path / "o"), id_col="score", output_format="csv")
    job.check()
    assert small_local_notes(job) is None  # Java prints doubles its own way
    assert _notes(path, id_col="when") is None


def test_csv_fields_as_sparks_writer_writes_them():
    assert [_csv_field(v) for v in (None, "", " sp ", 'q"x', "l\nm", "c,d", "#h", 7, 1.0)] == [
        "",
        '""',
        "sp",
        '"q""x"',
        '"l\nm"',
        '"c,d"',
        "#h",
        "7",
        "1.0",
    ]


def test_json_part_keeps_nulls_and_java_floats(tmp_path):
    table = pa.table(
        {"id": ["a"], "confidence": pa.array([0.8812], pa.float32()), "section": [None]}
    )
    path = write_part(table, str(tmp_path), "json")
    with open(path, encoding="utf-8") as written:
        assert written.read() == '{"id":"a","confidence":0.8812,"section":null}\n'


def test_the_table_is_committed_whole(tmp_path):
    output = tmp_path / "out"
    stale = temporary_beside(str(output), "killed")
    (tmp_path / stale).mkdir()
    table = pa.table({"id": ["a"], "chunk": ["fever"]})
    write_committed(table, str(output), "parquet", overwrite=False)
    assert pq.read_table(output).to_pylist() == [{"id": "a", "chunk": "fever"}]
    assert sorted(p.name for p in output.iterdir())[0] == "_SUCCESS"
    assert not [p for p in tmp_path.iterdir() if TEMP_MARKER in p.name]
    with pytest.raises(FileExistsError, match="appeared while the job ran"):
        write_committed(table, str(output), "parquet", overwrite=False)
    assert pq.read_table(output).num_rows == 1  # the old table stays
    write_committed(pa.table({"id": ["b"], "chunk": ["cough"]}), str(output), "csv", True)
    (part,) = [p for p in output.iterdir() if p.name.startswith("part-")]
    assert part.name.endswith(".csv") and part.read_text() == "id,chunk\nb,cough\n"
    assert not [p for p in tmp_path.iterdir() if TEMP_MARKER in p.name]
