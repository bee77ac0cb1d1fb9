"""The job's table formats: those it reads and writes, an input's told from its file names, and
Spark's reader and writer for each with the options it needs."""

from __future__ import annotations

import os

from pyspark.sql import DataFrame, DataFrameReader, DataFrameWriter, SparkSession

INPUT_FORMATS = ("parquet", "csv", "json", "orc")
OUTPUT_FORMATS = ("parquet", "csv", "json")
_EXTENSIONS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".orc": "orc",
}
_COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst", ".zstd", ".lz4", ".snappy", ".deflate")
# Notes span lines and quote with doubled quotes (RFC 4180, pandas, Excel), under a header.
_CSV_OPTIONS: dict[str, bool | str] = {"header": True, "escape": '"'}
_CSV_READ_OPTIONS: dict[str, bool | str] = {**_CSV_OPTIONS, "multiLine": True}
# Every JSON line has every column, null included (a chunk before the first header has no
# section): a table without one section is read back with the same columns.
_JSON_WRITE_OPTIONS: dict[str, bool | str] = {"ignoreNullFields": False}
_WRITE_OPTIONS = {"csv": _CSV_OPTIONS, "json": _JSON_WRITE_OPTIONS}


def reader_of(spark: SparkSession, fmt: str) -> DataFrameReader:
    """Spark's reader of a table in format ``fmt``."""
    return spark.read.format(fmt).options(**(_CSV_READ_OPTIONS if fmt == "csv" else {}))


def writer_of(table: DataFrame, fmt: str) -> DataFrameWriter:
    """Spark's writer of ``table`` in format ``fmt``."""
    return table.write.format(fmt).options(**_WRITE_OPTIONS.get(fmt, {}))


def detect_format(path: str) -> str:
    """The input format from a file's extension, or from the data files in a folder."""
    if os.path.isdir(path):
        names = [
            n for n in os.listdir(path) if not n.startswith(("_", ".")) and not n.endswith(".crc")
        ]
        found = {fmt for fmt in map(format_of, names) if fmt is not None}
        if len(found) == 1:
            return found.pop()
        what = "no data files it recognizes" if not found else f"files of formats {sorted(found)}"
        raise ValueError(f"input {path}: a folder with {what}; give --input-format")
    fmt = format_of(os.path.basename(path))
    if fmt is None:
        raise ValueError(
            f"input {path}: cannot tell the format from the extension; give --input-format "
            f"(one of {INPUT_FORMATS})"
        )
    return fmt


def format_of(name: str) -> str | None:
    """The format a file name's extension tells (past a compression's), if any."""
    lower = name.lower()
    for suffix in _COMPRESSIONS:
        lower = lower.removesuffix(suffix)
    return _EXTENSIONS.get(os.path.splitext(lower)[1])
