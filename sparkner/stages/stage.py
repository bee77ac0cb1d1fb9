"""The stage classes every annotator builds on, and the checks of their input columns.

An annotator is a pure function over a batch of rows: it takes Arrow arrays (one per input
column) and returns an Arrow array of annotation lists. :class:`AnnotatorStage` turns that
function into a Spark column (:func:`sparkner.runtime.udf.vectorized_udf`), and the
LightPipeline and the annotate job's fused UDF call the very same function
(:mod:`sparkner.runtime.steps`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.ml import Transformer
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import ArrayType, DataType, StringType, StructField, StructType

from sparkner.core.annotation import (
    ANNOTATIONS_ARROW_TYPE,
    ANNOTATOR_TYPE_KEY,
    STORAGE_REF_KEY,
    WORD_EMBEDDINGS,
    column_metadata,
)
from sparkner.core.params import HasInputCol, HasInputCols, HasOutputCol
from sparkner.runtime.udf import BatchFunction, UnreadInputs, vectorized_udf


class AnnotatorInputError(ValueError):
    """An input column is missing or holds the wrong kind of data."""


def is_annotation_type(data_type: DataType) -> bool:
    """Whether a Spark type is an annotation column (array of annotation structs)."""
    if not isinstance(data_type, ArrayType) or not isinstance(data_type.elementType, StructType):
        return False
    names = data_type.elementType.fieldNames()
    return all(name in names for name in ("annotatorType", "begin", "end", "result", "metadata"))


def annotator_type_of(field: StructField) -> str | None:
    """The annotator type recorded in a column's metadata, if any."""
    return (field.metadata or {}).get(ANNOTATOR_TYPE_KEY)


def check_annotation_columns(stage: str, schema: StructType, names: Sequence[str]) -> None:
    """Each of ``names`` is a column of ``schema`` holding annotations; the error names the
    ``stage`` (its description), the column and the columns there are."""
    by_name = {f.name: f for f in schema.fields}
    for name in names:
        if name not in by_name:
            raise AnnotatorInputError(
                f"{stage}: input column {name!r} does not exist; the DataFrame has columns "
                f"{sorted(by_name)}"
            )
        if not is_annotation_type(by_name[name].dataType):
            raise AnnotatorInputError(
                f"{stage}: input column {name!r} is of Spark type "
                f"{by_name[name].dataType.simpleString()}, expected an annotation column "
                f"(array<struct<annotatorType,begin,end,result,metadata,embeddings>>)"
            )


class FinisherStage:
    """Marks a stage that turns annotation columns into plain columns (the Finisher and the
    EmbeddingsFinisher): it annotates nothing, so the LightPipeline and the fused UDF skip it
    (as Spark NLP's LightPipeline does)."""


class AnnotatorStage(Transformer, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """Base of every stage that writes an annotation column.

    A subclass declares ``output_annotator_type``, the input columns it reads
    (:meth:`input_columns`), their Arrow types, and :meth:`batch_function`, the pure function
    over Arrow arrays that does the work.
    """

    output_annotator_type: ClassVar[str]
    # Size of one call of the batch function on Spark, in bytes or annotations of its first
    # input (see regroup; None: each Arrow batch as Spark sends it); set for stages whose
    # output dwarfs their input, so no output batch grows too large.
    max_call_size: ClassVar[int | None] = None
    # Which inputs the batch function reads (None: all); the others arrive as None on Spark.
    reads_inputs: ClassVar[tuple[bool, ...] | None] = None
    # Whether the stage's work dominates a pipeline's (a network over every token): the fused
    # transform runs such a stage once for all the columns that depend on it.
    costly: ClassVar[bool] = False

    # -- what a subclass provides -------------------------------------------------------------
    @abstractmethod
    def input_columns(self, column_types: Mapping[str, str | None] | None = None) -> list[str]:
        """The input column names, in the order :meth:`batch_function` takes them."""

    def input_arrow_types(self) -> list[pa.DataType]:
        return [ANNOTATIONS_ARROW_TYPE] * len(self.input_columns())

    @abstractmethod
    def batch_function(self) -> BatchFunction:
        """The pure function (Arrow arrays in, an annotation array out) that does the work."""

    @abstractmethod
    def check_input_schema(self, schema: StructType) -> None:
        """Raise :class:`AnnotatorInputError` if the input columns are not as expected."""

    def spark_batch_function(self, spark: SparkSession) -> BatchFunction:
        """The batch function for the Spark path; stages with files ship them here first."""
        return self.batch_function()

    def output_labels(
        self, input_labels: Sequence[tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        """The results this stage can write (a tagger's tags, a converter's entity types),
        given those of its inputs in order; None where results are free text."""
        return None

    def output_column_metadata(self, input_names: list[str]) -> dict[str, Any]:
        """The metadata recorded on the output column (its annotator type, at least)."""
        return column_metadata(self.output_annotator_type)

    # -- shared plumbing ----------------------------------------------------------------------
    def _transform(self, dataset: DataFrame) -> DataFrame:
        self.check_input_schema(dataset.schema)
        column_types = {f.name: annotator_type_of(f) for f in dataset.schema.fields}
        names = self.input_columns(column_types)
        read = self.reads_inputs or (True,) * len(names)
        # Columns the batch function does not read are not sent to the Python worker at all.
        columns = [name for name, used in zip(names, read, strict=True) if used]
        types = [t for t, used in zip(self.input_arrow_types(), read, strict=True) if used]
        function = self.spark_batch_function(dataset.sparkSession)
        if not all(read):
            function = UnreadInputs(function, read)
        return self.annotate_with(dataset, columns, types, function, names)

    def annotate_with(
        self,
        dataset: DataFrame,
        columns: Sequence[str],
        types: Sequence[pa.DataType],
        function: BatchFunction,
        input_names: list[str],
    ) -> DataFrame:
        """``dataset`` with the output column: ``function`` over ``columns`` (of Arrow
        ``types``) in a vectorized UDF; ``input_names`` are the stage's resolved inputs."""
        udf = vectorized_udf(
            function, list(types), name=type(self).__name__, max_call_size=self.max_call_size
        )
        output = self.getOutputCol()
        metadata = self.output_column_metadata(input_names)
        annotated = udf(*(dataset[c] for c in columns)).alias(output, metadata=metadata)
        return dataset.withColumn(output, annotated)

    def _describe(self) -> str:
        return f"{type(self).__name__} (outputCol {self.getOutputCol()!r})"


class AnnotatorTransformer(AnnotatorStage, HasInputCols):
    """A stage that reads annotation columns, matched to ``input_annotator_types``.

    Columns are matched to the expected types by the annotator type recorded in their
    metadata, so the order given to ``setInputCols`` does not matter; columns without that
    record are taken in the order given. ``optional_input_types`` may follow the required
    ones: inputCols then names the required columns plus the first few optional ones.
    """

    input_annotator_types: ClassVar[tuple[str, ...]]
    optional_input_types: ClassVar[tuple[str, ...]] = ()

    def expected_input_types(self) -> tuple[str, ...]:
        """The annotator types of the inputs as set: the required ones, then as many of the
        optional ones as inputCols has further columns."""
        extra = len(self.getInputCols()) - len(self.input_annotator_types)
        return self.input_annotator_types + self.optional_input_types[: max(extra, 0)]

    def input_columns(self, column_types: Mapping[str, str | None] | None = None) -> list[str]:
        given = list(self.getInputCols())
        expected = self.expected_input_types()
        if len(given) != len(expected):
            optional = self.optional_input_types
            also = f", optionally followed by {list(optional)}" if optional else ""
            raise AnnotatorInputError(
                f"{self._describe()}: inputCols {given} has {len(given)} columns, expected "
                f"{len(self.input_annotator_types)} (of annotator types "
                f"{list(self.input_annotator_types)}{also})"
            )
        column_types = column_types or {}
        remaining = list(given)
        ordered: list[str | None] = [None] * len(expected)
        for i, wanted in enumerate(expected):
            match = next((c for c in remaining if column_types.get(c) == wanted), None)
            if match is not None:
                ordered[i] = match
                remaining.remove(match)
        for i in range(len(ordered)):
            if ordered[i] is None:
                ordered[i] = remaining.pop(0)
        return [c for c in ordered if c is not None]

    def check_input_schema(self, schema: StructType) -> None:
        by_name = {f.name: f for f in schema.fields}
        column_types = {f.name: annotator_type_of(f) for f in schema.fields}
        check_annotation_columns(self._describe(), schema, self.getInputCols())
        for name, wanted in zip(
            self.input_columns(column_types), self.expected_input_types(), strict=True
        ):
            found = column_types.get(name)
            if found is not None and found != wanted:
                raise AnnotatorInputError(
                    f"{self._describe()}: input column {name!r} holds {found!r} annotations, "
                    f"expected {wanted!r}"
                )
            self._check_storage_ref(by_name[name])

    def _check_storage_ref(self, field: StructField) -> None:
        """A stage trained on some word vectors must get those vectors (``storageRef``)."""
        if self.output_annotator_type == WORD_EMBEDDINGS or not self.hasParam("storageRef"):
            return
        wanted = self.getOrDefault("storageRef") if self.isDefined("storageRef") else None
        found = (field.metadata or {}).get(STORAGE_REF_KEY)
        if wanted and found and wanted != found:
            raise AnnotatorInputError(
                f"{self._describe()}: input column {field.name!r} holds word embeddings "
                f"{found!r}, but this stage was trained with {wanted!r} (storageRef); use the "
                f"same embeddings as in training"
            )


class TextInputStage(AnnotatorStage, HasInputCol):
    """A stage that reads one plain string column (the DocumentAssembler)."""

    def input_columns(self, column_types: Mapping[str, str | None] | None = None) -> list[str]:
        return [self.getInputCol()]

    def input_arrow_types(self) -> list[pa.DataType]:
        return [pa.string()]

    def check_input_schema(self, schema: StructType) -> None:
        name = self.getInputCol()
        by_name = {f.name: f for f in schema.fields}
        if name not in by_name:
            raise AnnotatorInputError(
                f"{self._describe()}: input column {name!r} does not exist; the DataFrame has "
                f"columns {sorted(by_name)}"
            )
        if not isinstance(by_name[name].dataType, StringType):
            raise AnnotatorInputError(
                f"{self._describe()}: input column {name!r} is of Spark type "
                f"{by_name[name].dataType.simpleString()}, expected string"
            )
