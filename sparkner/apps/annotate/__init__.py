"""The batch job behind ``sparkner annotate``: a table of notes in, a table of entities out.

One output row per entity: the note's id, ``chunk`` (the entity's text), ``entity``, ``begin``,
``end`` (inclusive offsets into the note), ``sentence``, ``confidence``, when the pipeline
asserts its chunks, ``assertion`` (present, absent, possible, ...) and, when its chunks name
their section (a NerConverter that reads a SectionDetector's column, as ``ner_clinical``'s
does), ``section`` (``medications``, ``assessment``, ...; null before the first header).
The pipeline runs once: the summary's counts (notes read, tokens, entities per type) are
observed while the table is written. The table is written to a temporary folder beside the
output and renamed into place when complete, so a failed or killed run never leaves a
half-written table under the output's name.

A small local input (at most :data:`~.local_input.IN_PROCESS_MAX_ROWS` notes, read exactly as
Spark reads it: :mod:`.local_input`) runs in this process without Spark, through the
LightPipeline's code path (the same batch functions), and writes the same table and summary
(:mod:`.in_process`); ``sparkner annotate`` decides which, and ``--spark`` forces Spark.

The job's settings and their checks are in :mod:`.options`; the table formats (and CSV's
options) in :mod:`.formats`; its paths' messages and temporary folders in :mod:`.paths`;
the pipeline it runs in :mod:`.pipeline`; the two ways to the files (Hadoop, Spark Connect) in
:mod:`.filesystems`; progress lines in :mod:`.progress`; the run's summary in :mod:`.summary`;
and the job itself in :mod:`.job`.
"""

from sparkner.apps.annotate.filesystems import ConnectFiles, HadoopFiles
from sparkner.apps.annotate.formats import INPUT_FORMATS, OUTPUT_FORMATS, detect_format
from sparkner.apps.annotate.in_process import annotate_in_process
from sparkner.apps.annotate.job import (
    ROW_ID,
    TASKS_PER_CORE,
    annotate,
    entity_rows,
    load_models_in_workers,
    read_notes,
)
from sparkner.apps.annotate.local_input import IN_PROCESS_MAX_ROWS, LocalNotes, small_local_notes
from sparkner.apps.annotate.options import AnnotateJob
from sparkner.apps.annotate.paths import TEMP_MARKER
from sparkner.apps.annotate.pipeline import JobColumns, chunks_and_token_counts, load_pipeline
from sparkner.apps.annotate.progress import ProgressReporter
from sparkner.apps.annotate.summary import Summary

__all__ = [
    "INPUT_FORMATS",
    "IN_PROCESS_MAX_ROWS",
    "OUTPUT_FORMATS",
    "ROW_ID",
    "TASKS_PER_CORE",
    "TEMP_MARKER",
    "AnnotateJob",
    "ConnectFiles",
    "HadoopFiles",
    "JobColumns",
    "LocalNotes",
    "ProgressReporter",
    "Summary",
    "annotate",
    "annotate_in_process",
    "chunks_and_token_counts",
    "detect_format",
    "entity_rows",
    "load_models_in_workers",
    "load_pipeline",
    "read_notes",
    "small_local_notes",
]
