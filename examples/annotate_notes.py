"""Find the clinical entities in a table of notes: a batch job to copy and adapt.

Reads a table of notes (Parquet, CSV, JSON lines or ORC) with a text column, runs sparkner's
bundled ``ner_clinical`` pipeline on Spark, and writes one row per entity: the note's id,
``chunk`` (the entity's text), ``entity`` (PROBLEM, TEST or TREATMENT), ``begin``, ``end``
(inclusive character offsets into the note), ``sentence`` and ``confidence``.

Run it with spark-submit, from the virtual environment that has sparkner installed (its
``python`` must come first on the PATH, or set PYSPARK_PYTHON; see examples/README.md)::

    spark-submit --master "local[2]" examples/annotate_notes.py notes.parquet entities \\
        --id-col note_id

or with plain Python (then sparkner starts a local Spark itself)::

    python examples/annotate_notes.py notes.parquet entities --id-col note_id

It prints a summary of counts and timings, never any note text: job logs are often read by
people who may not see patient data.
"""

from __future__ import annotations

import argparse
import sys
import time

from pyspark.sql import SparkSession

import sparkner
from sparkner.apps.annotate import INPUT_FORMATS, OUTPUT_FORMATS, AnnotateJob, annotate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Find PROBLEM, TEST and TREATMENT entities in a table of clinical notes."
    )
    parser.add_argument("input", help="the notes: a Parquet, CSV, JSON-lines or ORC file/folder")
    parser.add_argument("output", help="where to write the entity table (a folder)")
    parser.add_argument("--text-col", default="text", help="the column with the note text")
    parser.add_argument(
        "--id-col",
        help="a column to copy to every entity row, e.g. note_id (default: a generated row_id)",
    )
    parser.add_argument(
        "--model",
        default="ner_clinical",
        help="a bundled model (ner_clinical, ner_bc5cdr) or a folder with a saved pipeline",
    )
    parser.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="needed when the input is not a local path (hdfs://, s3a://, dbfs:/) or its "
        "extension does not tell",
    )
    parser.add_argument(
        "--format", default="parquet", choices=OUTPUT_FORMATS, help="the output's format"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument(
        "--partitions",
        type=int,
        help="spread the notes over this many tasks (default: 4 per core of the application)",
    )
    return parser.parse_args(argv)


def spark_session() -> SparkSession:
    """The Spark session: spark-submit's (its --master and --conf win over sparkner's
    defaults), a running one (Databricks, a notebook), or else a new local one."""
    return sparkner.start(app_name="annotate_notes")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    job = AnnotateJob(
        input=args.input,
        output=args.output,
        text_col=args.text_col,
        id_col=args.id_col,
        model=args.model,
        input_format=args.input_format,
        output_format=args.format,
        overwrite=args.overwrite,
        partitions=args.partitions,
    )
    try:
        # Local paths and options are checked before Spark starts, so that a typo fails in a
        # second rather than after the JVM is up.
        job.check()
        started = time.perf_counter()  # the summary reports start-up and annotating apart
        spark = spark_session()
        # Reads the notes, runs the pipeline on the executors (the models travel with the
        # job: no network, no shared folder needed), writes the entity table to a temporary
        # folder beside the output and renames it into place only when it is complete.
        summary = annotate(spark, job, started=started)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        # sparkner's messages name files, columns and settings, never note text.
        print(f"annotate_notes: error: {exc}", file=sys.stderr)
        return 2
    print(f"{'spark master':<21}{spark.conf.get('spark.master', 'remote')}")
    for line in summary.lines():
        print(line)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
