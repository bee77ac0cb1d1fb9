"""The annotate job's table formats: an input's told from file names; CSV read as written."""

from __future__ import annotations

import pytest

from sparkner.apps.annotate import detect_format
from sparkner.apps.annotate.formats import reader_of, writer_of


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


@pytest.mark.slow
def test_csv_is_written_as_it_is_read(spark, tmp_path):
    notes = [("a-1", 'She takes "metformin",\nand "aspirin"'), ("a-2", ""), ("a-3", None)]
    writer_of(spark.createDataFrame(notes, "id string, note string"), "csv").save(
        str(tmp_path / "t")
    )
    read = reader_of(spark, "csv").load(str(tmp_path / "t")).collect()
    assert sorted((r.id, r.note or None) for r in read) == sorted((i, n or None) for i, n in notes)
