"""A pipeline as steps: each stage's batch function, the columns it reads and writes.

The LightPipeline (in the driver) and the annotate job's fused UDF (in the executors) both run
a fitted pipeline this way: one batch of texts through every stage's pure function in turn.
Columns are found by their annotator types, so callers need not know the stages' classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from pyspark.ml import PipelineModel, Transformer

from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorStage, FinisherStage, TextInputStage


def annotator_stages(
    pipeline: PipelineModel | Sequence[Transformer],
) -> tuple[list[AnnotatorStage], str]:
    """The pipeline's stages, checked to be sparkner annotators, and the text column the
    first text stage reads. Finishers (:class:`~sparkner.stages.stage.FinisherStage`) are left
    out: they only reshape annotation columns for Spark."""
    stages: list[AnnotatorStage] = []
    for stage in pipeline.stages if isinstance(pipeline, PipelineModel) else pipeline:
        if isinstance(stage, FinisherStage):
            continue
        if not isinstance(stage, AnnotatorStage):
            raise TypeError(
                f"LightPipeline runs sparkner annotators only; stage {stage.uid} is a "
                f"{type(stage).__name__}. Use pipeline.transform(dataframe) for it."
            )
        stages.append(stage)
    text_stages = [s for s in stages if isinstance(s, TextInputStage)]
    if not text_stages:
        raise ValueError("LightPipeline needs a DocumentAssembler (a stage that reads text)")
    return stages, text_stages[0].getInputCol()


@dataclass(frozen=True)
class Step:
    """One stage's batch function, the columns it reads and the column it writes (of
    annotator type ``output_type``; ``labels``: the results it can write, if it says)."""

    function: BatchFunction | None
    inputs: tuple[str, ...]
    output: str
    output_type: str
    labels: tuple[str, ...] | None = None


def plan_steps(
    stages: Sequence[tuple[AnnotatorStage, BatchFunction | None]], input_col: str
) -> list[Step]:
    """Resolve each stage's input columns in order (checked here, not in a worker)."""
    types: dict[str, str | None] = {input_col: None}
    labels: dict[str, tuple[str, ...] | None] = {}
    steps = []
    for stage, function in stages:
        inputs = stage.resolve_inputs(types)
        names = list(inputs.values())
        missing = [n for n in names if n not in types]
        if missing:
            raise ValueError(
                f"{type(stage).__name__} reads column(s) {missing}, which no earlier stage "
                f"writes; the pipeline's columns are {sorted(types)}"
            )
        output = stage.getOutputCol()
        labels[output] = stage.output_labels({role: labels.get(n) for role, n in inputs.items()})
        steps.append(
            Step(function, tuple(names), output, stage.output_annotator_type, labels[output])
        )
        types[output] = stage.output_annotator_type
    return steps


def describe(pipeline: PipelineModel | Sequence[Transformer]) -> tuple[list[Step], str]:
    """The pipeline's steps without their functions (nothing is loaded), and its text
    column: what it reads and writes, for callers that pick columns by annotator type."""
    stages, input_col = annotator_stages(pipeline)
    return plan_steps([(stage, None) for stage in stages], input_col), input_col


def run_steps(steps: Sequence[Step], input_col: str, texts: pa.Array) -> dict[str, pa.Array]:
    """Every output column for a batch of texts: the steps' functions, in order."""
    columns: dict[str, pa.Array] = {input_col: texts}
    for step in steps:
        columns[step.output] = step.function(*(columns[n] for n in step.inputs))  # type: ignore[misc]
    del columns[input_col]
    return columns


def columns_of_type(steps: Sequence[Step], annotator_type: str) -> list[str]:
    """The columns the steps write with annotations of ``annotator_type``, in order."""
    return [step.output for step in steps if step.output_type == annotator_type]


def last_column_of_type(steps: Sequence[Step], annotator_type: str) -> str:
    """The last column of ``annotator_type``; the error says which types the pipeline has."""
    found = columns_of_type(steps, annotator_type)
    if not found:
        written = sorted({step.output_type for step in steps})
        raise ValueError(f"the pipeline writes no {annotator_type!r} column; it writes {written}")
    return found[-1]


def readers_of(steps: Sequence[Step], column: str) -> list[Step]:
    """The steps that read ``column``."""
    return [step for step in steps if column in step.inputs]
