"""The pipeline the job runs: loading it, the columns it uses (found by their annotator types)
and running it over the notes, all its stages in one Python worker per task."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkner.apps.annotate.options import RESOLVERS
from sparkner.apps.pretrained import PretrainedPipeline
from sparkner.core.annotation import ASSERTION, CHUNK, DOCUMENT, ENTITY, SECTION, TOKEN
from sparkner.runtime.fused import pipeline_udf
from sparkner.runtime.steps import describe, last_column_of_type, readers_of
from sparkner.runtime.udf import has_arrow_udf
from sparkner.stages.stage import TextInputStage


def load_pipeline(model: str, resolve: tuple[str, ...] = ()) -> PipelineModel:
    """A bundled pipeline by name (``ner_clinical`` or ``ner_clinical_pipeline``), or a
    folder with a saved PipelineModel that writes a chunk column; with ``resolve``, followed by
    the bundled resolvers of those names (``resolver_<name>``) over its chunks."""
    if os.path.isdir(model):
        pipeline = PretrainedPipeline.from_disk(model).model
    else:
        pipeline = PretrainedPipeline(model).model
    return with_resolvers(pipeline, resolve) if resolve else pipeline


def resolver_column(name: str) -> str:
    """The column the job's resolver ``name`` writes."""
    return f"{name}_code"


def with_resolvers(pipeline: PipelineModel, resolve: tuple[str, ...]) -> PipelineModel:
    """``pipeline`` and a ChunkResolverModel per name of ``resolve`` over its chunks (each
    reading the note's document column and coding the chunk types of ``RESOLVERS``)."""
    from sparkner.annotators.chunk_resolver import ChunkResolverModel

    try:
        steps, _ = describe(pipeline)
        chunks = last_column_of_type(steps, CHUNK)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the model cannot annotate notes: {exc}") from None
    # The note itself: the first document column (the DocumentAssembler's), not sentences.
    document = next(step.output for step in steps if step.output_type == DOCUMENT)
    stages = list(pipeline.stages)
    for name in resolve:
        resolver = ChunkResolverModel.pretrained(f"resolver_{name}")
        resolver.setInputCols([document, chunks]).setOutputCol(resolver_column(name))
        if RESOLVERS[name]:
            resolver.setEntityTypes(list(RESOLVERS[name]))
        stages.append(resolver)
    return PipelineModel(stages)


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
    # Whether the chunks name their section (their converter reads a section column).
    sections: bool = False
    # The resolver columns (``entity`` annotations) that code the chunks, in priority order.
    codes: tuple[str, ...] = ()

    @classmethod
    def of(cls, pipeline: PipelineModel) -> JobColumns:
        try:
            steps, text = describe(pipeline)
            chunks = last_column_of_type(steps, CHUNK)
            tokens = last_column_of_type(steps, TOKEN)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the model cannot annotate notes: {exc}") from None
        chunker = next(step for step in steps if step.output == chunks)
        labels = chunker.labels
        types = {step.output: step.output_type for step in steps}
        sections = any(types.get(name) == SECTION for name in chunker.inputs)
        readers = readers_of(steps, chunks)
        asserting = [s for s in readers if s.output_type == ASSERTION]
        assertion = asserting[-1] if asserting else None
        codes = tuple(s.output for s in readers if s.output_type == ENTITY)
        return cls(
            text,
            tokens,
            chunks,
            tuple(labels or ()),
            assertion.output if assertion else None,
            tuple(assertion.labels or ()) if assertion else (),
            sections,
            codes,
        )

    @property
    def outputs(self) -> list[str]:
        """The annotation columns the job takes from the pipeline."""
        return [self.chunks, *([self.assertion] if self.assertion else []), *self.codes]


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
