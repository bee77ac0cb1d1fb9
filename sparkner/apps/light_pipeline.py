"""LightPipeline: run a fitted pipeline on local texts in the driver, without a Spark job.

It calls each stage's batch function, the same function the Spark path runs inside its UDF,
on an Arrow batch built from the texts, so both paths give the same annotations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark.ml import PipelineModel, Transformer
from pyspark.sql import DataFrame

from sparkner.core.annotation import Annotation, AnnotationBatch
from sparkner.runtime.steps import annotator_stages, plan_steps, run_steps
from sparkner.runtime.udf import TEXT_BYTES_PER_CALL, regroup


class LightPipeline:
    """Annotate texts locally with the annotator stages of a fitted pipeline.

    >>> light = LightPipeline(pipeline_model)
    >>> light.annotate("Patient denies chest pain.")["token"]
    ['Patient', 'denies', 'chest', 'pain', '.']
    """

    def __init__(
        self, pipeline: PipelineModel | Sequence[Transformer], parse_embeddings: bool = False
    ) -> None:
        # As in Spark NLP, fullAnnotate leaves every annotation's embeddings empty unless
        # parse_embeddings is True (200 floats a token otherwise, mostly unread).
        self.parse_embeddings = bool(parse_embeddings)
        self.pipeline_model = (
            pipeline if isinstance(pipeline, PipelineModel) else PipelineModel(list(pipeline))
        )
        self.stages, self.input_col = annotator_stages(pipeline)
        self._steps = plan_steps([(s, s.batch_function()) for s in self.stages], self.input_col)

    def transform(self, dataframe: DataFrame) -> DataFrame:
        """The whole pipeline (finishers included) on a DataFrame, by Spark, as Spark NLP's
        ``LightPipeline.transform``."""
        return self.pipeline_model.transform(dataframe)

    def getIgnoreUnsupported(self) -> bool:
        """Spark NLP's: whether unsupported stages are skipped (finishers always are)."""
        return True

    def output_columns(self) -> list[str]:
        return [stage.getOutputCol() for stage in self.stages]

    def annotate_batch(self, texts: Sequence[str | None]) -> dict[str, pa.Array]:
        """Every output column for a batch of texts, as Arrow annotation arrays."""
        return run_steps(self._steps, self.input_col, pa.array(list(texts), pa.string()))

    def _batches(self, texts: Sequence[str | None]) -> Iterator[dict[str, pa.Array]]:
        for (batch,) in regroup([[pa.array(list(texts), pa.string())]], TEXT_BYTES_PER_CALL):
            yield run_steps(self._steps, self.input_col, batch)

    def annotate(self, target: str | Sequence[str | None] | None) -> Any:
        """Column -> list of result strings, for one text (a dict) or a list (a list of dicts);
        ``None`` counts as one missing text (empty lists)."""
        texts = _texts(target, "annotate")
        rows = [
            row for batch in self._batches(texts) for row in _per_row(batch, lambda b: b.result)
        ]
        return rows if _is_list(target) else rows[0]

    def fullAnnotate(self, target: str | Sequence[str | None] | None) -> list[dict[str, Any]]:
        """A list with one dict (column -> list of :class:`Annotation`) per text: for a list
        of texts, and for one text too (a list of one), as in Spark NLP. Each annotation's
        ``embeddings`` is empty unless the LightPipeline was made with
        ``parse_embeddings=True``."""
        texts = _texts(target, "fullAnnotate")
        return [row for batch in self._batches(texts) for row in _per_row(batch, self._annotations)]

    def _annotations(self, batch: AnnotationBatch) -> list[Annotation]:
        annotations = batch.annotations
        if not self.parse_embeddings and len(annotations):
            # The vectors are emptied before the rows become Python objects.
            embeddings = annotations.type.field("embeddings").type
            empty = pa.ListArray.from_arrays(
                pa.array(np.zeros(len(annotations) + 1, dtype=np.int32)),
                pa.array([], embeddings.value_type),
                type=embeddings,
            )
            names = [f.name for f in annotations.type]
            fields = [empty if n == "embeddings" else annotations.field(n) for n in names]
            annotations = pa.StructArray.from_arrays(fields, fields=list(annotations.type))
        return [Annotation.from_row(r) for r in annotations.to_pylist()]


def _is_list(target: object) -> bool:
    return target is not None and not isinstance(target, str)


def _texts(target: object, method: str) -> list[str | None]:
    """The texts of a target: one text, None, or a list of texts. A dict is refused (as in
    Spark NLP), not read as its keys. (Any ``target``: it comes from the user.)"""
    if target is None or isinstance(target, str):
        return [target]
    if isinstance(target, Mapping | AbstractSet) or not isinstance(target, Iterable):
        raise TypeError(f"{method} takes a text or a list of texts, not a {type(target).__name__}")
    texts: list[str | None] = []
    for text in target:
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{method} takes texts (str), got a {type(text).__name__} in the list")
        texts.append(text)
    return texts


def _per_row(batch: dict[str, pa.Array], values_of: Any) -> Iterator[dict[str, list[Any]]]:
    """Split flat per-column values back into one dict per row."""
    per_column = {}
    for name, column in batch.items():
        annotations = AnnotationBatch(column)
        per_column[name] = (annotations.row_offsets, values_of(annotations))
    num_rows = len(next(iter(batch.values()))) if batch else 0
    for row in range(num_rows):
        yield {
            name: values[offsets[row] : offsets[row + 1]]
            for name, (offsets, values) in per_column.items()
        }
