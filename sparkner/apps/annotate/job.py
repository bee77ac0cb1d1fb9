"""The job itself: read the notes, run the pipeline, write the entity table and commit it,
counting what it saw on the way."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TextIO

from pyspark.ml import PipelineModel
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from sparkner.apps.annotate.filesystems import files_of
from sparkner.apps.annotate.formats import INPUT_FORMATS, reader_of
from sparkner.apps.annotate.options import AnnotateJob
from sparkner.apps.annotate.paths import missing_input, output_taken
from sparkner.apps.annotate.pipeline import JobColumns, chunks_and_token_counts, load_pipeline
from sparkner.apps.annotate.progress import ProgressReporter
from sparkner.apps.annotate.summary import Summary
from sparkner.runtime.shipping import is_connect

ROW_ID = "row_id"
TASKS_PER_CORE = 4


def read_notes(spark: SparkSession, job: AnnotateJob) -> DataFrame:
    """The input table, checked: the text (and id) column exist and the text is a string."""
    fmt = job.input_format
    if fmt is None:
        raise ValueError(f"input {job.input}: give --input-format (one of {INPUT_FORMATS})")
    notes = reader_of(spark, fmt).load(job.input)
    columns = notes.columns
    for option, name in (("--text-col", job.text_col), ("--id-col", job.id_col)):
        if name is not None and name not in columns:
            raise ValueError(f"{option} {name!r}: input {job.input} has columns {columns}")
    text_type = notes.schema[job.text_col].dataType
    if not isinstance(text_type, StringType):
        raise ValueError(
            f"--text-col {job.text_col!r}: input {job.input} has it as "
            f"{text_type.simpleString()}, not string"
        )
    return notes


def entity_rows(
    annotated: DataFrame,
    id_col: str,
    chunk_col: str,
    assertion_col: str | None = None,
    sections: bool = False,
    codes: tuple[str, ...] = (),
) -> DataFrame:
    """One row per chunk: id, chunk, entity, begin, end, sentence, confidence, with
    ``assertion_col`` (one annotation per chunk, in the chunks' order) ``assertion``, with
    ``sections`` (the chunks name their section) ``section``: the chunk's metadata
    ``section``, null for a chunk before the note's first header, and with ``codes`` (resolver
    columns, whose annotations name their chunk's index) ``code``, ``vocabulary`` and
    ``concept_name`` from the first of them that coded the chunk, null where none did."""
    chunk = F.col("c")
    kept = [id_col, *([assertion_col] if assertion_col else []), *codes]
    exploded = annotated.select(*kept, F.posexplode(chunk_col).alias("position", "c"))
    columns: list[Column | str] = [
        id_col,
        chunk.result.alias("chunk"),
        chunk.metadata["entity"].alias("entity"),
        chunk.begin.alias("begin"),
        chunk.end.alias("end"),
        chunk.metadata["sentence"].cast("int").alias("sentence"),
        chunk.metadata["confidence"].cast("float").alias("confidence"),
    ]
    if assertion_col:
        asserted = F.get(F.col(assertion_col), F.col("position"))
        columns.append(asserted.result.alias("assertion"))
    if sections:
        columns.append(chunk.metadata["section"].alias("section"))
    if codes:
        index = F.col("position").cast("string")
        found = F.coalesce(
            *(F.get(F.filter(code, lambda a: a.metadata["chunk"] == index), 0) for code in codes)
        )
        columns += [
            found.result.alias("code"),
            found.metadata["vocabulary"].alias("vocabulary"),
            found.metadata["resolved_text"].alias("concept_name"),
        ]
    return exploded.select(*columns)


def annotate(
    spark: SparkSession,
    job: AnnotateJob,
    progress: TextIO | None = sys.stderr,
    started: float | None = None,
    warm_up: bool = True,
) -> Summary:
    """Run the job: read, annotate, write the entity table, commit it; return the summary.

    ``started`` is when the caller began (``time.perf_counter()``, e.g. before it started
    Spark): the summary's start-up time counts from there, else from this call. ``warm_up``:
    load the models in every Python worker first (:func:`load_models_in_workers`), while the
    driver reads the input, so that the start-up and the notes' time are reported apart; a
    caller that knows the input is small may skip it (the models then load in the job's
    first tasks, counted in its time).
    """
    started = time.perf_counter() if started is None else started
    job.check(local_paths=not is_connect(spark))
    pipeline = load_pipeline(job.model, job.resolve)
    columns = JobColumns.of(pipeline)
    types = columns.entity_types
    files = files_of(spark)
    if files.exists(job.input) is False:
        raise missing_input(job.input)
    if files.exists(job.output) and not job.overwrite:
        raise output_taken(job.output)
    # A small file is one partition: spread it so that every core gets notes, in a few tasks
    # per core so that the load evens out and progress shows.
    partitions = job.partitions or TASKS_PER_CORE * default_parallelism(spark)
    # The workers import TensorFlow and load the models while the driver reads the input
    # (a job of its own for CSV's header and JSON's schema). Over Spark Connect the input's
    # errors come back first, as the server reports them.
    warming = None
    if warm_up and not is_connect(spark):
        warming = _in_background(load_models_in_workers, spark, pipeline, columns, partitions)
    try:
        notes = files.read(lambda: read_notes(spark, job), job.input)
        id_col = job.id_col or ROW_ID
        if job.id_col is None:
            notes = notes.withColumn(ROW_ID, F.monotonically_increasing_id())
        if job.partitions or files.partitions_of(notes) < partitions:
            notes = notes.repartition(partitions)
    finally:
        if warming is not None:
            warming.result()  # its error, if any, unless the input's is raised
    if warm_up and warming is None:
        load_models_in_workers(spark, pipeline, columns, partitions)

    tagger_chunks = columns.chunks
    annotated = chunks_and_token_counts(spark, pipeline, notes, job.text_col, id_col, columns)
    note_stats = Observation("notes")
    annotated = annotated.observe(
        note_stats,
        F.count(F.lit(1)).alias("rows"),
        F.sum("tokens").alias("tokens"),
        F.sum(F.when(F.size(tagger_chunks) > 0, 1).otherwise(0)).alias("with_entities"),
    )
    entity_stats = Observation("entities")
    per_type: list[Column] = [
        F.sum(F.when(F.col("entity") == t, 1).otherwise(0)).alias(t) for t in types
    ]
    labels = columns.assertion_labels if columns.assertion else ()
    per_type += [
        F.sum(F.when((F.col("entity") == t) & (F.col("assertion") == a), 1).otherwise(0)).alias(
            f"{t}/{a}"
        )
        for t in types
        for a in labels
    ]
    if columns.codes:
        per_type.append(F.count("code").alias("coded"))
    table = entity_rows(
        annotated, id_col, tagger_chunks, columns.assertion, columns.sections, columns.codes
    ).observe(entity_stats, F.count(F.lit(1)).alias("entities"), *per_type)

    job_started = time.perf_counter()
    with ProgressReporter(spark, progress):
        files.write_committed(table, job.output, job.output_format, job.overwrite)
    seconds = time.perf_counter() - job_started
    notes_seen, entities_seen = note_stats.get, entity_stats.get
    return Summary(
        rows_read=int(notes_seen["rows"]),
        notes_with_entities=int(notes_seen["with_entities"] or 0),
        entities=int(entities_seen["entities"]),
        entities_by_type={t: int(entities_seen[t] or 0) for t in types},
        entities_by_assertion={
            t: {a: int(entities_seen[f"{t}/{a}"] or 0) for a in labels} for t in types
        }
        if labels
        else {},
        tokens=int(notes_seen["tokens"] or 0),
        seconds=seconds,
        output=job.output,
        output_format=job.output_format,
        startup_seconds=job_started - started,
        entities_coded=int(entities_seen["coded"] or 0) if columns.codes else None,
    )


# A fictional sentence that every stage of a clinical pipeline does work on.
WARM_UP_TEXT = "The patient reports fever and cough. Chest X-ray was ordered; started aspirin."


def load_models_in_workers(
    spark: SparkSession, pipeline: PipelineModel, columns: JobColumns, tasks: int
) -> None:
    """Run the pipeline on one short sentence in each of ``tasks`` tasks, so that Spark's
    reused Python workers have loaded the models before the job starts: the job's time is
    then the notes' alone, and start-up is reported as such."""
    tasks = max(1, min(tasks, TASKS_PER_CORE * 64))
    sample = spark.range(0, tasks, numPartitions=tasks).select(
        "id", F.lit(WARM_UP_TEXT).alias("text")
    )  # one row per task, no shuffle
    warmed = chunks_and_token_counts(spark, pipeline, sample, "text", "id", columns)
    warmed.write.format("noop").mode("overwrite").save()


def _in_background(function: Callable[..., None], *args: object) -> Future[None]:
    """``function(*args)`` in a thread of its own (Spark runs jobs of several threads)."""
    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sparkner-warm-up")
    try:
        return runner.submit(function, *args)
    finally:
        runner.shutdown(wait=False)


def default_parallelism(spark: SparkSession) -> int:
    """The cluster's default parallelism (its cores, unless set otherwise)."""
    if not is_connect(spark):
        return int(spark.sparkContext.defaultParallelism)
    # Spark Connect does not expose it, but spark.range without a partition count spreads
    # over exactly that many partitions (a job over a few million numbers: well under 1 s).
    numbers = spark.range(0, 1 << 22).select(F.spark_partition_id().alias("partition"))
    last = numbers.agg(F.max("partition")).first()
    assert last is not None  # an aggregate without grouping has one row
    return int(last[0]) + 1
