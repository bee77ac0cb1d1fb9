"""A whole pipeline in one Spark UDF: every stage's batch function in one Python worker.

A PipelineModel of sparkner stages runs each stage in a vectorized UDF of its own: Spark
sends every stage's input columns from the JVM to a Python worker and its output back, and a
task keeps one Python worker per stage, each of which ends up holding the models. A batch job
that wants only some columns (the chunks) can instead run :func:`pipeline_udf`: the stages'
own Spark batch functions, in order, in one worker per task, returning only the columns
asked for. Same functions, same results; one trip through Arrow instead of one per stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml import PipelineModel, Transformer
from pyspark.sql import Column, SparkSession
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

from sparkner.annotation import ANNOTATIONS_SPARK_TYPE
from sparkner.steps import Step, annotator_stages, plan_steps, run_steps
from sparkner.udf import TEXT_BYTES_PER_CALL, has_arrow_udf, vectorized_udf


def pipeline_udf(
    pipeline: PipelineModel | Sequence[Transformer],
    spark: SparkSession,
    outputs: Sequence[str],
    counts: Sequence[str] = (),
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
    # Each stage's transform-time checks (columns, the vectors' storageRef and dimension),
    # which the one UDF would otherwise skip: transform() is lazy, so no job runs.
    empty = spark.createDataFrame([], StructType([StructField(input_col, StringType())]))
    PipelineModel(stages=list(stages)).transform(empty)
    steps = plan_steps([(s, s.spark_batch_function(spark)) for s in stages], input_col)
    fields = [StructField(name, ANNOTATIONS_SPARK_TYPE) for name in outputs]
    fields += [StructField(f"{name}_count", IntegerType(), False) for name in counts]
    function = partial(
        _run, steps=steps, input_col=input_col, outputs=tuple(outputs), counts=tuple(counts)
    )
    return vectorized_udf(
        function, [pa.string()], return_type=StructType(fields), use_arrow=True,
        name="SparknerPipeline", max_call_size=TEXT_BYTES_PER_CALL,
    )  # fmt: skip


def _run(
    texts: pa.Array, steps: list[Step], input_col: str, outputs: tuple[str, ...],
    counts: tuple[str, ...],
) -> pa.StructArray:  # fmt: skip
    columns = run_steps(steps, input_col, texts)
    arrays = [columns[name] for name in outputs]
    arrays += [
        pc.fill_null(pc.list_value_length(columns[name]), 0).cast(pa.int32()) for name in counts
    ]
    names = [*outputs, *(f"{name}_count" for name in counts)]
    return pa.StructArray.from_arrays(arrays, names=names)
