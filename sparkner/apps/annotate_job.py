"""The batch job behind ``sparkner annotate``: a table of notes in, a table of entities out.

One output row per entity: the note's id, ``chunk`` (the entity's text), ``entity``, ``begin``,
``end`` (inclusive offsets into the note), ``sentence``, ``confidence`` and, when the pipeline
asserts its chunks, ``assertion`` (present, absent, possible, ...). The pipeline runs
once: the summary's counts (notes read, tokens, entities per type) are observed while the
table is written. The table is written to a temporary folder beside the output and renamed
into place when complete, so a failed or killed run never leaves a half-written table under
the output's name.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO
from urllib.parse import urlparse

from pyspark.errors import AnalysisException
from pyspark.ml import PipelineModel
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from sparkner.apps.pretrained import PretrainedPipeline
from sparkner.core.annotation import ASSERTION, CHUNK, TOKEN
from sparkner.runtime.fused import pipeline_udf
from sparkner.runtime.shipping import is_connect
from sparkner.runtime.steps import describe, last_column_of_type, readers_of
from sparkner.runtime.udf import has_arrow_udf
from sparkner.stages.stage import TextInputStage

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
TEMP_MARKER = ".sparkner-tmp-"
ROW_ID = "row_id"
TASKS_PER_CORE = 4


@dataclass
class AnnotateJob:
    """What ``sparkner annotate`` does; the fields are its command-line options."""

    input: str
    output: str
    text_col: str = "text"
    id_col: str | None = None
    model: str = "ner_clinical"
    input_format: str | None = None
    output_format: str = "parquet"
    overwrite: bool = False
    partitions: int | None = None

    def check(self, local_paths: bool = True) -> None:
        """Settings, and with ``local_paths`` the paths as this machine sees them, checked
        before Spark starts. Without (over Spark Connect, where the paths are the server's),
        a path is checked only if this machine has it, and the format comes from the input's
        extension when ``input_format`` is not given."""
        if self.input_format is not None and self.input_format not in INPUT_FORMATS:
            raise ValueError(f"--input-format {self.input_format!r}: one of {INPUT_FORMATS}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"--format {self.output_format!r}: one of {OUTPUT_FORMATS}")
        if self.partitions is not None and self.partitions < 1:
            raise ValueError(f"--partitions {self.partitions}: must be at least 1")
        if _is_local(self.input):
            if os.path.exists(_local(self.input)):
                self.input_format = self.input_format or detect_format(_local(self.input))
            elif local_paths:
                raise FileNotFoundError(f"input {self.input}: no such file or folder")
        if self.input_format is None and not local_paths:
            self.input_format = _format_of(os.path.basename(self.input.rstrip("/")))
        same = (
            _is_local(self.input)
            and _is_local(self.output)
            and (os.path.abspath(_local(self.input)) == os.path.abspath(_local(self.output)))
        )
        if same:
            raise ValueError(f"output {self.output} is the input; choose another output")
        exists = _is_local(self.output) and os.path.exists(_local(self.output))
        if local_paths and exists and not self.overwrite:
            raise FileExistsError(f"output {self.output} exists; pass --overwrite to replace it")


@dataclass
class Summary:
    """What a run did; never any note text."""

    rows_read: int
    notes_with_entities: int
    entities: int
    entities_by_type: dict[str, int]
    tokens: int
    # The job alone: reading, tagging and writing the notes, with the models already loaded.
    seconds: float
    output: str
    output_format: str
    # Entity type -> assertion label -> count, when the pipeline asserts its chunks.
    entities_by_assertion: dict[str, dict[str, int]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    # Before the job: Spark, reading the pipeline, loading its models in the Python workers.
    startup_seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["seconds"] = round(self.seconds, 2)
        record["startup_seconds"] = round(self.startup_seconds, 2)
        record["tokens_per_second"] = round(self.tokens_per_second)
        return record

    def lines(self) -> list[str]:
        by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(self.entities_by_type.items()))
        lines = [
            f"rows read            {self.rows_read:,}",
            f"notes with entities  {self.notes_with_entities:,}",
            f"rows written         {self.entities:,} entities ({by_type or 'none'})",
        ]
        for entity, counts in sorted(self.entities_by_assertion.items()):
            shown = ", ".join(f"{label} {n:,}" for label, n in counts.items() if n)
            lines.append(f"  {entity:<19}{shown or 'none'}")
        return [
            *lines,
            f"tokens               {self.tokens:,}",
            f"start-up             {self.startup_seconds:.1f} s (Spark, loading the models)",
            f"annotating           {self.seconds:.1f} s ({self.tokens_per_second:,.0f} tokens/s)",
            f"output               {self.output} ({self.output_format})",
        ]


def detect_format(path: str) -> str:
    """The input format from a file's extension, or from the data files in a folder."""
    if os.path.isdir(path):
        names = [
            n for n in os.listdir(path) if not n.startswith(("_", ".")) and not n.endswith(".crc")
        ]
        found = {_format_of(n) for n in names} - {None}
        if len(found) == 1:
            return found.pop()  # type: ignore[return-value]
        what = "no data files it recognizes" if not found else f"files of formats {sorted(found)}"
        raise ValueError(f"input {path}: a folder with {what}; give --input-format")
    fmt = _format_of(os.path.basename(path))
    if fmt is None:
        raise ValueError(
            f"input {path}: cannot tell the format from the extension; give --input-format "
            f"(one of {INPUT_FORMATS})"
        )
    return fmt


def _format_of(name: str) -> str | None:
    lower = name.lower()
    for suffix in _COMPRESSIONS:
        lower = lower.removesuffix(suffix)
    return _EXTENSIONS.get(os.path.splitext(lower)[1])


def _is_local(path: str) -> bool:
    scheme = urlparse(path).scheme
    return scheme in ("", "file") or len(scheme) == 1  # a Windows drive letter


def _local(path: str) -> str:
    return urlparse(path).path if path.startswith("file:") else path


def read_notes(spark: SparkSession, job: AnnotateJob) -> DataFrame:
    """The input table, checked: the text (and id) column exist and the text is a string."""
    fmt = job.input_format
    if fmt is None:
        raise ValueError(f"input {job.input}: give --input-format (one of {INPUT_FORMATS})")
    reader = spark.read
    if fmt == "csv":
        # Notes span lines and quote with doubled quotes (RFC 4180, pandas, Excel).
        reader = reader.option("header", True).option("multiLine", True).option("escape", '"')
    notes = reader.format(fmt).load(job.input)
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


def load_pipeline(model: str) -> PipelineModel:
    """A bundled pipeline by name (``ner_clinical`` or ``ner_clinical_pipeline``), or a
    folder with a saved PipelineModel that writes a chunk column."""
    if os.path.isdir(model):
        return PretrainedPipeline.from_disk(model).model
    return PretrainedPipeline(model).model


@dataclass(frozen=True)
class JobColumns:
    """The pipeline's columns the job uses, found by their annotator types, not by stage
    classes or positions: the text it reads, the tokens it counts, the chunks it writes out
    and the entity types those chunks can have."""

    text: str
    tokens: str
    chunks: str
    entity_types: tuple[str, ...]
    # The assertion column that asserts the chunks, if the pipeline has one, and its labels.
    assertion: str | None = None
    assertion_labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, pipeline: PipelineModel) -> JobColumns:
        try:
            steps, text = describe(pipeline)
            chunks = last_column_of_type(steps, CHUNK)
            tokens = last_column_of_type(steps, TOKEN)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the model cannot annotate notes: {exc}") from None
        labels = next(step.labels for step in steps if step.output == chunks)
        asserting = [s for s in readers_of(steps, chunks) if s.output_type == ASSERTION]
        assertion = asserting[-1] if asserting else None
        return cls(
            text,
            tokens,
            chunks,
            tuple(labels or ()),
            assertion.output if assertion else None,
            tuple(assertion.labels or ()) if assertion else (),
        )

    @property
    def outputs(self) -> list[str]:
        """The annotation columns the job takes from the pipeline."""
        return [self.chunks, *([self.assertion] if self.assertion else [])]


def entity_rows(
    annotated: DataFrame, id_col: str, chunk_col: str, assertion_col: str | None = None
) -> DataFrame:
    """One row per chunk: id, chunk, entity, begin, end, sentence, confidence, and with
    ``assertion_col`` (one annotation per chunk, in the chunks' order) ``assertion``."""
    chunk = F.col("c")
    kept = [id_col, *([assertion_col] if assertion_col else [])]
    exploded = annotated.select(*kept, F.posexplode(chunk_col).alias("position", "c"))
    columns = [
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
    return exploded.select(*columns)


def annotate(
    spark: SparkSession,
    job: AnnotateJob,
    progress: TextIO | None = sys.stderr,
    started: float | None = None,
) -> Summary:
    """Run the job: read, annotate, write the entity table, commit it; return the summary.

    ``started`` is when the caller began (``time.perf_counter()``, e.g. before it started
    Spark): the summary's start-up time counts from there, else from this call.
    """
    started = time.perf_counter() if started is None else started
    connect = is_connect(spark)
    job.check(local_paths=not connect)
    pipeline = load_pipeline(job.model)
    columns = JobColumns.of(pipeline)
    types = columns.entity_types
    files: HadoopFiles | ConnectFiles = ConnectFiles() if connect else HadoopFiles(spark)
    if files.exists(job.input) is False:
        raise FileNotFoundError(f"input {job.input}: no such file or folder")
    if files.exists(job.output) and not job.overwrite:
        raise FileExistsError(f"output {job.output} exists; pass --overwrite to replace it")
    notes = files.read(lambda: read_notes(spark, job), job.input)
    id_col = job.id_col or ROW_ID
    if job.id_col is None:
        notes = notes.withColumn(ROW_ID, F.monotonically_increasing_id())
    # A small file is one partition: spread it so that every core gets notes, in a few tasks
    # per core so that the load evens out and progress shows.
    partitions = job.partitions or TASKS_PER_CORE * default_parallelism(spark)
    if job.partitions or files.partitions_of(notes) < partitions:
        notes = notes.repartition(partitions)

    tagger_chunks = columns.chunks
    load_models_in_workers(spark, pipeline, columns, partitions)
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
    table = entity_rows(annotated, id_col, tagger_chunks, columns.assertion).observe(
        entity_stats, F.count(F.lit(1)).alias("entities"), *per_type
    )

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


def chunks_and_token_counts(
    spark: SparkSession,
    pipeline: PipelineModel,
    notes: DataFrame,
    text_col: str,
    id_col: str,
    columns: JobColumns | None = None,
) -> DataFrame:
    """The id, the number of ``tokens``, the chunk column and the assertion column (if any)
    of every note (``columns``: the pipeline's, found if not given).

    All stages run in one Python worker per task (:func:`sparkner.runtime.fused.pipeline_udf`), and
    only the chunks and counts come back to the JVM; on pyspark 4.0 the stages run one by one.
    """
    columns = columns or JobColumns.of(pipeline)
    tokens, outputs = columns.tokens, columns.outputs
    if not has_arrow_udf():
        for stage in pipeline.stages:  # this job's own copy of the pipeline
            if isinstance(stage, TextInputStage):
                stage.setInputCol(text_col)
        annotated = pipeline.transform(notes)
        return annotated.select(id_col, F.size(tokens).alias("tokens"), *outputs)
    run = pipeline_udf(pipeline, spark, outputs, counts=[tokens])
    result = notes.select(id_col, run(F.col(text_col)).alias("annotated"))
    return result.select(
        id_col,
        F.col(f"annotated.{tokens}_count").alias("tokens"),
        *(F.col(f"annotated.{name}").alias(name) for name in outputs),
    )


def default_parallelism(spark: SparkSession) -> int:
    """The cluster's default parallelism (its cores, unless set otherwise)."""
    if not is_connect(spark):
        return int(spark.sparkContext.defaultParallelism)
    # Spark Connect does not expose it, but spark.range without a partition count spreads
    # over exactly that many partitions (a job over a few million numbers: well under 1 s).
    numbers = spark.range(0, 1 << 22).select(F.spark_partition_id().alias("partition"))
    last = numbers.agg(F.max("partition")).first()
    return int(last[0]) + 1


class HadoopFiles:
    """Files through Hadoop's FileSystem, so local paths, HDFS and object stores behave alike."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def read(self, reader: Callable[[], DataFrame], path: str) -> DataFrame:
        return reader()

    def partitions_of(self, frame: DataFrame) -> int:
        return int(frame.rdd.getNumPartitions())

    def _fs_path(self, path: str) -> tuple[Any, Any]:  # py4j FileSystem and Path
        hadoop_path = self._jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(self._conf), hadoop_path

    def exists(self, path: str) -> bool:
        fs, hadoop_path = self._fs_path(path)
        return bool(fs.exists(hadoop_path))

    def delete(self, path: str) -> None:
        fs, hadoop_path = self._fs_path(path)
        fs.delete(hadoop_path, True)

    def stale_temporaries(self, output: str) -> list[str]:
        """Temporary folders left beside ``output`` by runs that were killed."""
        fs, hadoop_path = self._fs_path(output.rstrip("/") + TEMP_MARKER + "*")
        found = fs.globStatus(hadoop_path) or []
        return [str(status.getPath().toString()) for status in found]

    def write_committed(self, table: DataFrame, output: str, fmt: str, overwrite: bool) -> None:
        """Write ``table`` to a temporary folder beside ``output``, then rename it into place."""
        for stale in self.stale_temporaries(output):
            self.delete(stale)
        temporary = output.rstrip("/") + TEMP_MARKER + uuid.uuid4().hex[:12]
        writer = table.write.format(fmt)
        if fmt == "csv":
            writer = writer.option("header", True).option("escape", '"')
        try:
            writer.save(temporary)
            if self.exists(output):
                if not overwrite:
                    raise FileExistsError(f"output {output} appeared while the job ran")
                self.delete(output)
            fs, target = self._fs_path(output)
            _, source = self._fs_path(temporary)
            if not fs.rename(source, target):
                raise OSError(f"could not rename the finished table into {output}")
        finally:
            if self.exists(temporary):
                self.delete(temporary)


class ConnectFiles:
    """The job's files over Spark Connect, where this process has no Hadoop FileSystem.

    Whether a path exists is learned from Spark's own errors, and the table is written with
    Spark's commit protocol: it appears under the output's name only when complete (with
    Spark's ``_SUCCESS`` marker), but a run killed while replacing an existing output
    (``--overwrite``) leaves no output rather than the old one.
    """

    def exists(self, path: str) -> bool | None:
        return None  # unknown until Spark reads or writes it

    def read(self, reader: Callable[[], DataFrame], path: str) -> DataFrame:
        try:
            notes = reader()
            notes.schema  # noqa: B018  (analysis: a missing path fails here)
        except AnalysisException as exc:
            if exc.getCondition() == "PATH_NOT_FOUND":
                raise FileNotFoundError(f"input {path}: no such file or folder") from None
            raise
        return notes

    def partitions_of(self, frame: DataFrame) -> int:
        # No RDD over Connect: the input's files are a lower bound of its partitions.
        return len(frame.inputFiles())

    def write_committed(self, table: DataFrame, output: str, fmt: str, overwrite: bool) -> None:
        writer = table.write.format(fmt).mode("overwrite" if overwrite else "error")
        if fmt == "csv":
            writer = writer.option("header", True).option("escape", '"')
        try:
            writer.save(output)
        except AnalysisException as exc:
            if exc.getCondition() == "PATH_ALREADY_EXISTS":
                raise FileExistsError(
                    f"output {output} exists; pass --overwrite to replace it"
                ) from None
            raise


class ProgressReporter:
    """Reports finished tasks of the running Spark stages on ``stream`` while a job runs.

    On a terminal one line is redrawn each second; otherwise (logs, CI) a line is written
    when the count changes, at most every 10 seconds.
    """

    def __init__(self, spark: SparkSession, stream: TextIO | None) -> None:
        self._spark = spark
        self._connect = is_connect(spark)
        # Over Connect, the server reports progress with each response; the last report.
        self._reported: tuple[int, int] = (0, 0)
        self._tracker = None if self._connect else spark.sparkContext.statusTracker()
        self._stream = stream
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sparkner-progress", daemon=True)
        self._interactive = bool(stream is not None and stream.isatty())
        self._started = time.perf_counter()

    def __enter__(self) -> ProgressReporter:
        if self._stream is not None:
            if self._connect:
                self._spark.registerProgressHandler(self._on_connect_progress)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._connect and self._stream is not None:
            self._spark.removeProgressHandler(self._on_connect_progress)

    def _on_connect_progress(
        self, stages: Any, inflight_tasks: int, operation_id: str | None, done: bool
    ) -> None:
        stages = list(stages or [])
        self._reported = (
            sum(s.num_completed_tasks for s in stages),
            sum(s.num_tasks for s in stages),
        )

    def _task_counts(self) -> tuple[int, int]:
        """Finished and all tasks of the running stages."""
        if self._tracker is None:
            return self._reported
        done = total = 0
        for stage_id in self._tracker.getActiveStageIds():
            info = self._tracker.getStageInfo(stage_id)
            if info is not None:
                done += info.numCompletedTasks
                total += info.numTasks
        return done, total

    def _run(self) -> None:
        last, last_time = "", 0.0
        period = 1.0 if self._interactive else 10.0
        while not self._done.wait(1.0):
            line = self.describe()
            now = time.perf_counter()
            if line and line != last and now - last_time >= period:
                self._write(line)
                last, last_time = line, now
        if self._interactive and last:
            self._write("", end="\n")

    def describe(self) -> str:
        done, total = self._task_counts()
        if not total:
            return ""
        elapsed = time.perf_counter() - self._started
        return f"annotating: {done}/{total} tasks done, {elapsed:.0f} s"

    def _write(self, line: str, end: str = "") -> None:
        assert self._stream is not None
        if self._interactive:
            self._stream.write("\r" + line.ljust(60) + end)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
