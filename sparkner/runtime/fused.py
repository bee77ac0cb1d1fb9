"""A whole pipeline in one Spark UDF: every stage's batch function in one Python worker.

A PipelineModel of sparkner stages runs each stage in a vectorized UDF of its own: Spark
sends every stage's input columns from the JVM to a Python worker and its output back, and a
task keeps one Python worker per stage, each of which ends up holding the models. A batch job
that wants only some columns (the chunks) can instead run :func:`pipeline_udf`: the stages'
own Spark batch functions, in order, in one worker per task, returning only the columns
asked for. Same functions, same results; one trip through Arrow instead of one per stage.

:func:`fused_transform` does what ``pipeline.transform(data)`` does (same columns, schema and
rows) with such UDFs, so that a user who selects a few columns pays for those alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml import PipelineModel, Transformer
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

from sparkner.core.spark_types import ANNOTATIONS_SPARK_TYPE
from sparkner.runtime.steps import Step, annotator_stages, describe, plan_steps, run_steps
from sparkner.runtime.udf import TEXT_BYTES_PER_CALL, has_arrow_udf, vectorized_udf
from sparkner.stages.stage import AnnotatorStage, TextInputStage, pipeline_schema


def pipeline_udf(
    pipeline: PipelineModel | Sequence[Transformer],
    spark: SparkSession,
    outputs: Sequence[str],
    counts: Sequence[str] = (),
    checked: bool = False,
) -> Callable[[Column], Column]:
    """A UDF from the text column to a struct of the ``outputs`` annotation columns, plus
    ``<name>_count`` (annotations per row) for each column in ``counts``.

    Needs pyspark's ``arrow_udf`` (4.1+); models are shipped through Spark as by the stages.
    """
    if not has_arrow_udf():
        raise RuntimeError("pipeline_udf needs pyspark 4.1 or newer (arrow_udf)")
    stages, input_col = annotator_stages(pipeline)
    written = [stage.getOutputCol() for stage in stages]
    unknown = sorted((set(outputs) | set(counts)) - set(written))
    if unknown:
        raise ValueError(f"the pipeline writes no column(s) {unknown}; it writes {written}")
    if not checked:  # ``checked``: the caller checked the stages on its frame's schema
        # Each stage's transform-time checks (columns, the vectors' storageRef and dimension),
        # which the one UDF would otherwise skip: on the schema alone, no round trip.
        pipeline_schema(stages, StructType([StructField(input_col, StringType())]))
    steps = plan_steps([(s, s.spark_batch_function(spark)) for s in stages], input_col)
    fields = [StructField(name, ANNOTATIONS_SPARK_TYPE) for name in outputs]
    fields += [StructField(f"{name}_count", IntegerType(), False) for name in counts]
    function = partial(
        _run, steps=steps, input_col=input_col, outputs=tuple(outputs), counts=tuple(counts)
    )
    return vectorized_udf(
        function,
        [pa.string()],
        return_type=StructType(fields),
        use_arrow=True,
        name="SparknerPipeline",
        max_call_size=TEXT_BYTES_PER_CALL,
    )


def can_fuse(pipeline: PipelineModel) -> bool:
    """Whether :func:`fused_transform` can run ``pipeline``: sparkner annotators only (no
    finishers, no other Spark stages, no text stage reading side columns), on a pyspark with
    ``arrow_udf``."""
    return has_arrow_udf() and all(
        isinstance(s, AnnotatorStage) and not (isinstance(s, TextInputStage) and s.side_columns())
        for s in pipeline.stages
    )


def fused_transform(pipeline: PipelineModel, data: DataFrame) -> DataFrame:
    """``pipeline.transform(data)``: the same columns, schema (annotator types and the
    vectors' records included) and rows, in fewer trips between the JVM and Python.

    The columns that depend on a costly stage (the tagger: ``ner``, the chunks, the
    assertions) come from one UDF that runs the stages they need once; every other column
    (``document``, ``sentence``, ``token``, ``embeddings``) from a UDF of its own that runs
    the cheap stages it needs. Spark drops the UDFs of columns nobody reads, so
    ``fused_transform(p, df).select("id", "ner_chunk")`` does the annotate job's work and no
    more, and the 200 floats per token of ``embeddings`` are made only where they are used.
    """
    stages, input_col = annotator_stages(pipeline)
    # The stage path's checks (input columns, vectors) and its schema, on the schema alone.
    expected = pipeline_schema(pipeline.stages, data.schema)
    steps, _ = describe(stages)
    needs: dict[str, set[str]] = {}  # column -> the columns made on the way to it
    for step in steps:
        needs[step.output] = {step.output}.union(*(needs.get(n, set()) for n in step.inputs))
    costly = {stage.getOutputCol() for stage in stages if stage.costly}
    grouped = [step.output for step in steps if needs[step.output] & costly]
    groups = [grouped] if grouped else []
    groups += [[step.output] for step in steps if step.output not in grouped]

    spark = data.sparkSession
    structs, fields = [], {}
    for number, outputs in enumerate(groups):
        made = set().union(*(needs[o] for o in outputs))
        needed = [s for s in stages if s.getOutputCol() in made]
        run = pipeline_udf(needed, spark, outputs, checked=True)
        name = f"__sparkner_fused_{number}"
        structs.append(run(data[input_col]).alias(name))
        fields.update({output: f"{name}.{output}" for output in outputs})
    # Two projections, as in the annotate job: each UDF runs once, its fields are picked after.
    wide = data.select("*", *structs)
    columns = [
        wide[fields[step.output]].alias(step.output, metadata=expected[step.output].metadata)
        for step in steps
    ]
    return wide.select(*(wide[c] for c in data.columns), *columns)


def _run(
    texts: pa.Array,
    steps: list[Step],
    input_col: str,
    outputs: tuple[str, ...],
    counts: tuple[str, ...],
) -> pa.StructArray:
    columns = run_steps(steps, input_col, texts)
    arrays = [columns[name] for name in outputs]
    arrays += [
        pc.fill_null(pc.list_value_length(columns[name]), 0).cast(pa.int32()) for name in counts
    ]
    names = [*outputs, *(f"{name}_count" for name in counts)]
    return pa.StructArray.from_arrays(arrays, names=names)
