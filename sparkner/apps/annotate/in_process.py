"""The job in this process, without Spark: a small local input through the LightPipeline's
code path, the same entity table written as Spark writes it.

A JVM and Python workers with TensorFlow cost 12 to 15 s before the first note; a few hundred
notes take a few seconds in one process. So ``sparkner annotate`` runs a small local input
here (:func:`~sparkner.apps.annotate.local_input.small_local_notes` decides) and everything
else on Spark. The stages' batch functions are the ones the Spark job's UDF calls, on calls of
the same size (:data:`~sparkner.runtime.udf.TEXT_BYTES_PER_CALL`); the entity rows are
:func:`~sparkner.apps.annotate.job.entity_rows`'s, column for column and type for type; the
table is a folder Spark reads (one part file and ``_SUCCESS``), written beside the output and
renamed into place as the Spark path commits it. The summary says the job ran in-process.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml import PipelineModel
from pyspark.sql.types import StringType, StructField, StructType

from sparkner.apps.annotate.job import ROW_ID, WARM_UP_TEXT
from sparkner.apps.annotate.local_input import LocalNotes
from sparkner.apps.annotate.options import AnnotateJob
from sparkner.apps.annotate.paths import output_taken, temporary_beside
from sparkner.apps.annotate.pipeline import JobColumns, load_pipeline
from sparkner.apps.annotate.summary import Summary
from sparkner.core.annotation import AnnotationBatch
from sparkner.core.paths import filesystem_path
from sparkner.runtime.steps import Step, annotator_stages, plan_steps, run_steps
from sparkner.runtime.udf import TEXT_BYTES_PER_CALL, regroup
from sparkner.stages.stage import pipeline_schema

# What univocity (Spark's CSV writer) trims from both ends of a value: every char <= " ".
_CSV_TRIMMED = "".join(chr(code) for code in range(33))
_CSV_QUOTED = (",", '"', "\n", "\r")


def annotate_in_process(
    job: AnnotateJob,
    notes: LocalNotes,
    progress: TextIO | None = sys.stderr,
    started: float | None = None,
) -> Summary:
    """Run ``job`` (checked, with ``notes`` its input as read by
    :func:`~sparkner.apps.annotate.local_input.small_local_notes`) in this process; return the
    summary. ``started`` as for :func:`~sparkner.apps.annotate.job.annotate`."""
    started = time.perf_counter() if started is None else started
    target = filesystem_path(job.output)
    assert target is not None  # small_local_notes takes local outputs only
    if os.path.lexists(target) and not job.overwrite:
        raise output_taken(job.output)
    pipeline = load_pipeline(job.model, job.resolve)
    columns = JobColumns.of(pipeline)
    steps, input_col = _steps(pipeline)
    run_steps(steps, input_col, pa.array([WARM_UP_TEXT]))  # the models load here: start-up

    job_started = time.perf_counter()
    id_col = job.id_col or ROW_ID
    ids = notes.ids if notes.ids is not None else pa.array(np.arange(len(notes)), pa.int64())
    reporter = _Progress(progress, len(notes))
    pieces, tokens, with_entities, done = [], 0, 0, 0
    for (texts,) in regroup([[notes.texts]], TEXT_BYTES_PER_CALL):
        annotated = run_steps(steps, input_col, texts)
        tokens += _sum(pc.list_value_length(annotated[columns.tokens]))
        with_entities += _sum(pc.greater(pc.list_value_length(annotated[columns.chunks]), 0))
        pieces.append(entity_table(annotated, ids.slice(done, len(texts)), id_col, columns))
        done += len(texts)
        reporter.update(done)
    reporter.close()
    table = _concat(pieces, ids.type, id_col, columns)
    write_committed(table, job.output, job.output_format, job.overwrite)
    seconds = time.perf_counter() - job_started

    types, labels = columns.entity_types, columns.assertion_labels if columns.assertion else ()
    entity = table.column("entity")
    by_type = {t: _sum(pc.equal(entity, t)) for t in types}
    by_assertion = {}
    if labels:
        assertion = table.column("assertion")
        by_assertion = {
            t: {a: _sum(pc.and_(pc.equal(entity, t), pc.equal(assertion, a))) for a in labels}
            for t in types
        }
    return Summary(
        rows_read=len(notes),
        notes_with_entities=with_entities,
        entities=len(table),
        entities_by_type=by_type,
        entities_by_assertion=by_assertion,
        tokens=tokens,
        seconds=seconds,
        output=job.output,
        output_format=job.output_format,
        startup_seconds=job_started - started,
        entities_coded=len(table) - table.column("code").null_count if columns.codes else None,
        in_process=True,
    )


def _steps(pipeline: PipelineModel) -> tuple[list[Step], str]:
    """The LightPipeline's steps (each stage's batch function), after the checks the Spark
    job makes of the stages before it starts (input columns, the vectors a tagger expects)."""
    stages, input_col = annotator_stages(pipeline)
    pipeline_schema(stages, StructType([StructField(input_col, StringType())]))
    return plan_steps([(s, s.batch_function()) for s in stages], input_col), input_col


def _sum(values: pa.Array) -> int:
    return int(pc.sum(values).as_py() or 0)


def entity_table(
    annotated: dict[str, pa.Array], ids: pa.Array, id_col: str, columns: JobColumns
) -> pa.Table:
    """:func:`~sparkner.apps.annotate.job.entity_rows` over a batch of annotated notes (their
    ``ids``): one row per chunk, the same columns and values."""
    chunks = AnnotationBatch(annotated[columns.chunks])
    flat = chunks.annotations
    rows = chunks.row_of()
    position = np.arange(len(chunks)) - chunks.row_offsets[rows]
    data: dict[str, Any] = {
        id_col: ids.take(pa.array(rows, pa.int64())),
        "chunk": flat.field("result"),
        "entity": chunks.metadata("entity"),
        "begin": flat.field("begin"),
        "end": flat.field("end"),
        "sentence": chunks.metadata("sentence").cast(pa.int32()),
        "confidence": chunks.metadata("confidence").cast(pa.float32()),
    }
    if columns.assertion:
        # The chunk's assertion is the one at its position (null past the list's end).
        asserted = AnnotationBatch(annotated[columns.assertion])
        counts = np.diff(asserted.row_offsets)[rows]
        where = pa.array(asserted.row_offsets[rows] + position, mask=position >= counts)
        data["assertion"] = asserted.annotations.field("result").take(where)
    if columns.sections:
        data["section"] = chunks.metadata("section")
    if columns.codes:
        data.update(_codes(annotated, columns.codes, rows, position))
    return pa.table(data)


def _codes(
    annotated: dict[str, pa.Array],
    codes: Sequence[str],
    rows: np.ndarray,
    position: np.ndarray,
) -> dict[str, pa.Array]:
    """Each chunk's code, vocabulary and concept name: from the first resolver column (in
    order) with an annotation whose ``chunk`` metadata is the chunk's position, its first
    such annotation; null where none."""
    keys = list(zip(rows.tolist(), map(str, position.tolist()), strict=True))
    found: list[tuple[int, int] | None] = [None] * len(keys)
    values = []
    for number, name in enumerate(codes):
        coded = AnnotationBatch(annotated[name])
        first: dict[tuple[int, str | None], int] = {}
        for index, key in enumerate(
            zip(coded.row_of().tolist(), coded.metadata("chunk").to_pylist(), strict=True)
        ):
            first.setdefault(key, index)
        for chunk, key in enumerate(keys):
            if found[chunk] is None and key in first:
                found[chunk] = (number, first[key])
        values.append(
            (
                coded.annotations.field("result").to_pylist(),
                coded.metadata("vocabulary").to_pylist(),
                coded.metadata("resolved_text").to_pylist(),
            )
        )
    picked = [values[f[0]] if f else None for f in found]
    return {
        name: pa.array(
            [p[column][f[1]] if p and f else None for p, f in zip(picked, found, strict=True)],
            pa.string(),
        )
        for column, name in enumerate(("code", "vocabulary", "concept_name"))
    }


def entity_schema(id_type: pa.DataType, id_col: str, columns: JobColumns) -> pa.Schema:
    """The entity table's columns and types, as the Spark path writes them."""
    fields = [
        (id_col, id_type),
        ("chunk", pa.string()),
        ("entity", pa.string()),
        ("begin", pa.int32()),
        ("end", pa.int32()),
        ("sentence", pa.int32()),
        ("confidence", pa.float32()),
    ]
    fields += [("assertion", pa.string())] if columns.assertion else []
    fields += [("section", pa.string())] if columns.sections else []
    fields += [(name, pa.string()) for name in ("code", "vocabulary", "concept_name")][
        : 3 if columns.codes else 0
    ]
    return pa.schema(fields)


def _concat(
    pieces: list[pa.Table], id_type: pa.DataType, id_col: str, columns: JobColumns
) -> pa.Table:
    schema = entity_schema(id_type, id_col, columns)
    return (
        pa.concat_tables([piece.cast(schema) for piece in pieces])
        if pieces
        else schema.empty_table()
    )


def write_committed(table: pa.Table, output: str, fmt: str, overwrite: bool) -> None:
    """Write ``table`` as a folder Spark reads (one part file, ``_SUCCESS``) to a temporary
    folder beside ``output``, then rename it into place: as
    :meth:`~sparkner.apps.annotate.filesystems.HadoopFiles.write_committed` does."""
    target = filesystem_path(output)
    assert target is not None
    for stale in glob.glob(temporary_beside(glob.escape(target), "*")):
        shutil.rmtree(stale, ignore_errors=True)
    temporary = temporary_beside(target, uuid.uuid4().hex[:12])
    os.makedirs(temporary)
    try:
        write_part(table, temporary, fmt)
        open(os.path.join(temporary, "_SUCCESS"), "wb").close()
        if os.path.lexists(target):
            if not overwrite:
                raise FileExistsError(f"output {output} appeared while the job ran")
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.remove(target)
        os.rename(temporary, target)
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary, ignore_errors=True)


def write_part(table: pa.Table, folder: str, fmt: str) -> str:
    """The table as one part file of ``folder`` in Spark's format ``fmt`` and with its
    writer's options (:mod:`.formats`); returns its path."""
    name = f"part-00000-{uuid.uuid4()}-c000"
    if fmt == "parquet":
        import pyarrow.parquet as pq

        path = os.path.join(folder, name + ".snappy.parquet")
        pq.write_table(table, path, compression="snappy")
        return path
    path = os.path.join(folder, f"{name}.{fmt}")
    names = table.column_names
    values = [[_plain(v) for v in table.column(n).to_pylist()] for n in names]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            handle.write(",".join(map(_csv_field, names)) + "\n")
            for row in zip(*values, strict=True):
                handle.write(",".join(map(_csv_field, row)) + "\n")
        elif fmt == "json":
            for row in zip(*values, strict=True):
                record = dict(zip(names, row, strict=True))  # every field, null included
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
        else:
            raise ValueError(f"--format {fmt!r}: not an output format")
    return path


def _plain(value: object) -> object:
    """A float as Java prints a float (the shortest decimal that reads back to it)."""
    if isinstance(value, float):
        return float(str(np.float32(value)))
    return value


def _csv_field(value: object) -> str:
    """A value as Spark's CSV writer (the job's options) writes it: null empty, an empty
    string quoted, strings trimmed, quoted where they hold a comma, quote or line break."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return str(value)
    text = value.strip(_CSV_TRIMMED)
    if not text:
        return '""'
    if any(mark in text for mark in _CSV_QUOTED):
        return '"' + text.replace('"', '""') + '"'
    return text


class _Progress:
    """Notes done, on ``stream`` while the job runs: as the Spark path's reporter, one line
    redrawn on a terminal (at most each second), else a line at most every 10 s."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self._stream, self._total = stream, total
        self._interactive = bool(stream is not None and stream.isatty())
        self._period = 1.0 if self._interactive else 10.0
        self._started = self._last = time.perf_counter()
        self._written = False

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self._stream is None or now - self._last < self._period:
            return
        line = f"annotating: {done}/{self._total} notes done, {now - self._started:.0f} s"
        if self._interactive:
            self._stream.write("\r" + line.ljust(60))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
        self._last, self._written = now, True

    def close(self) -> None:
        if self._stream is not None and self._interactive and self._written:
            self._stream.write("\n")
            self._stream.flush()
