"""A small local input, read without Spark: whether the job may run in-process, and its notes.

The in-process path (:mod:`.in_process`) must write the table the Spark path writes, so it
takes an input only where it reads what Spark's reader would: the same columns, the same
text and ids. Anything it is not sure of (a compressed or partitioned input, a type Spark
would read otherwise, rows Spark's CSV parser would mend) goes to Spark, which decides as it
always has. Counting is cheap: Parquet's row counts are in its footer; a CSV or JSON-lines
file small enough to qualify is read whole by Arrow's C++ readers in a few milliseconds.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from sparkner.apps.annotate.formats import format_of
from sparkner.apps.annotate.options import AnnotateJob
from sparkner.core.paths import filesystem_path

# The notes a job may have to run in-process: at about 540 tokens a note (MTSamples), 1,000
# notes take 8 s in one process on 2 cores, where Spark's start-up alone takes 12 to 15 s.
IN_PROCESS_MAX_ROWS = 1000
# ... and the text they may hold (1,000 MTSamples notes: 3.2 MB), so that 1,000 long notes
# still go to Spark's workers.
IN_PROCESS_MAX_TEXT_BYTES = 8 * 1024 * 1024
# Files larger than this are not opened to count their rows (CSV and JSON must be parsed).
_MAX_FILE_BYTES = 64 * 1024 * 1024
# Spark reads a file of at most spark.sql.files.openCostInBytes (4 MiB by default, the lower
# bound of its split size) as one partition, so its generated row ids are 0, 1, 2, ...
_ONE_SPLIT_BYTES = 4 * 1024 * 1024
# Compressions whose files Spark and Arrow read alike (Hadoop frames LZ4 and Snappy its own way).
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2"}
# Spark's names of the Arrow types a text column may wrongly have (its error names them).
_SPARK_TYPE_NAMES = {
    pa.int8(): "tinyint",
    pa.int16(): "smallint",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.float32(): "float",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.binary(): "binary",
}


@dataclass(frozen=True)
class LocalNotes:
    """The notes of a small local input: the text column and, with ``--id-col``, the ids, as
    Spark reads them (``ids`` None: the job numbers the rows 0, 1, 2, ... as Spark would)."""

    texts: pa.Array
    ids: pa.Array | None
    text_bytes: int

    def __len__(self) -> int:
        return len(self.texts)


def small_local_notes(
    job: AnnotateJob,
    max_rows: int = IN_PROCESS_MAX_ROWS,
    max_text_bytes: int = IN_PROCESS_MAX_TEXT_BYTES,
) -> LocalNotes | None:
    """The notes of ``job`` (checked) when its input and output are this machine's files, its
    model a bundled name or a local folder, and its input small (at most ``max_rows`` rows and
    ``max_text_bytes`` of text) and plain enough to read exactly as Spark does; else None.

    A wrong text or id column raises the Spark path's error, before anything is loaded."""
    source, target = filesystem_path(job.input), filesystem_path(job.output)
    fmt = job.input_format
    if source is None or target is None or fmt not in ("parquet", "csv", "json"):
        return None
    if filesystem_path(job.model) is None:  # a model on HDFS, S3, ...: Spark reads it
        return None
    files = _data_files(source)
    if not files or sum(os.path.getsize(f) for f in files) > _MAX_FILE_BYTES:
        return None
    if job.id_col is None and not _one_partition(files, fmt):
        return None  # Spark's row ids would jump between partitions
    try:
        table = _read(files, fmt, max_rows)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, csv.Error):
        return None  # Spark's reader mends or reports what Arrow's refuses: let it
    if table is None:
        return None
    texts = _checked_column(table, job.text_col, "--text-col", job.input)
    ids = _checked_column(table, job.id_col, "--id-col", job.input) if job.id_col else None
    text_type = _value_type(texts.type)
    if pa.types.is_null(text_type) and fmt == "json":
        text_type = pa.string()  # Spark reads a JSON field that is always null as a string
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
        if text_type not in _SPARK_TYPE_NAMES:
            return None  # a type whose name we would have to guess: Spark's error names it
        raise ValueError(
            f"--text-col {job.text_col!r}: input {job.input} has it as "
            f"{_SPARK_TYPE_NAMES[text_type]}, not string"
        )
    texts = texts.cast(pa.string())
    if ids is not None:
        id_type = _value_type(ids.type)
        if pa.types.is_null(id_type) and fmt == "json":
            id_type = pa.string()
        if not _plain_id(id_type, job.output_format):
            return None
        ids = ids.cast(id_type)
    text_bytes = int(pc.sum(pc.binary_length(texts)).as_py() or 0)
    if text_bytes > max_text_bytes:
        return None
    return LocalNotes(texts, ids, text_bytes)


def _data_files(source: str) -> list[str] | None:
    """The files Spark reads for ``source``: the file, or a flat folder's files that are not
    hidden (``_SUCCESS``, ``.crc``); None for a folder with subfolders (partitions)."""
    if os.path.isfile(source):
        return [source]
    if not os.path.isdir(source):
        return None
    files = []
    for name in sorted(os.listdir(source)):
        if name.startswith(("_", ".")):
            continue
        path = os.path.join(source, name)
        if not os.path.isfile(path):
            return None
        files.append(path)
    return files


def _compression(path: str) -> str | None:
    """Arrow's name of the file's compression; '' for none; None for one Arrow may read
    otherwise than Hadoop."""
    suffix = os.path.splitext(path.lower())[1]
    if suffix in _COMPRESSIONS:
        return _COMPRESSIONS[suffix]
    if format_of(os.path.basename(path)) is None and suffix:
        return None  # .lz4, .snappy, .zst, ... or an extension we do not know
    return ""


def _one_partition(files: list[str], fmt: str) -> bool:
    """Whether Spark reads ``files`` as one partition (a larger file splits in byte ranges,
    and a Parquet row group goes to the range that holds its middle)."""
    if len(files) != 1:
        return False
    (path,) = files
    if fmt == "csv" or _compression(path) == "gzip":  # multiLine CSV and gzip never split
        return True
    return os.path.getsize(path) <= _ONE_SPLIT_BYTES


def _read(files: list[str], fmt: str, max_rows: int) -> pa.Table | None:
    """The files as one table, or None if they hold more than ``max_rows`` rows or differ."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        metas = [pq.ParquetFile(f) for f in files]
        if sum(m.metadata.num_rows for m in metas) > max_rows:
            return None
        tables = [m.read() for m in metas]
    else:
        tables = []
        for path in files:
            compression = _compression(path)
            if compression is None:
                return None
            with pa.input_stream(path, compression=compression or None) as stream:
                data = stream.read()
            table = _read_csv(data) if fmt == "csv" else _read_json(data)
            if table is None:
                return None
            tables.append(table)
            if sum(len(t) for t in tables) > max_rows:
                return None
    if any(t.schema != tables[0].schema for t in tables[1:]):
        return None  # Spark would take one file's schema; not worth guessing which
    table = pa.concat_tables(tables)
    return None if len(table) > max_rows else table


def _read_csv(data: bytes) -> pa.Table | None:
    """A CSV file as Spark reads it with the job's options (a header, quotes doubled, notes
    across lines): every column a string, an empty field null."""
    import pyarrow.csv as pcsv

    if data.startswith(b"\xef\xbb\xbf"):
        return None  # a byte-order mark: Spark's handling differs by version
    first = io.StringIO(data[: 64 * 1024].decode("utf-8", errors="replace"), newline="")
    header = next(csv.reader(first), None)
    if not header or len(set(header)) != len(header) or not all(header):
        return None  # Spark renames empty and repeated names: let it
    return pcsv.read_csv(
        io.BytesIO(data),
        read_options=pcsv.ReadOptions(column_names=header, skip_rows=1),
        parse_options=pcsv.ParseOptions(newlines_in_values=True, double_quote=True),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _read_json(data: bytes) -> pa.Table | None:
    """A JSON-lines file with Spark's columns (sorted by name) and types; None where Arrow
    infers a type Spark would not (Arrow reads ISO dates as timestamps, Spark as strings)."""
    import pyarrow.json as pjson

    table = pjson.read_json(io.BytesIO(data))
    plain = (pa.types.is_string, pa.types.is_int64, pa.types.is_float64, pa.types.is_boolean)
    kept = all(
        any(test(field.type) for test in plain) or pa.types.is_null(field.type)
        for field in table.schema
    )
    if not kept:
        return None
    return table.select(sorted(table.column_names))


def _checked_column(table: pa.Table, name: str | None, option: str, path: str) -> pa.Array:
    if name not in table.column_names:
        raise ValueError(f"{option} {name!r}: input {path} has columns {table.column_names}")
    return table.column(name).combine_chunks()


def _value_type(kind: pa.DataType) -> pa.DataType:
    """The type Spark sees: a dictionary's values (pandas' categories), a large string's."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.string() if pa.types.is_large_string(kind) else kind


def _plain_id(kind: pa.DataType, output_format: str) -> bool:
    """Whether the in-process writer writes ids of this type as Spark would: strings and
    integers in every format, floats and booleans in Parquet."""
    if pa.types.is_string(kind) or pa.types.is_signed_integer(kind):
        return True
    return output_format == "parquet" and (
        kind in (pa.float32(), pa.float64()) or pa.types.is_boolean(kind)
    )
