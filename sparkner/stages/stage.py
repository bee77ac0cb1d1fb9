"""The stage classes every annotator builds on, and the checks of their input columns.

An annotator is a pure function over a batch of rows: it takes Arrow arrays (one per input
column) and returns an Arrow array of annotation lists. :class:`AnnotatorStage` turns that
function into a Spark column (:func:`sparkner.runtime.udf.vectorized_udf`), and the
LightPipeline and the annotate job's fused UDF call the very same function
(:mod:`sparkner.runtime.steps`).

A stage names its inputs by role (:func:`roles`: ``sentence``, ``token``, ``embeddings``...).
The columns of ``setInputCols`` are matched to the roles once, at the stage boundary
(:meth:`AnnotatorStage.checked_inputs`, the check behind ``transform`` and
``transformSchema``), and the stage uses them by role from then on.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
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
from sparkner.core.spark_types import ANNOTATIONS_SPARK_TYPE
from sparkner.runtime.udf import BatchFunction, UnreadInputs, vectorized_udf

# A stage's input columns by role (role -> column name), in the order its batch function
# takes them.
InputColumns = dict[str, str]


class AnnotatorInputError(ValueError):
    """An input column is missing or holds the wrong kind of data."""


def roles(**annotator_types: str) -> tuple[tuple[str, str], ...]:
    """A stage's input roles, as it declares them: ``roles(sentence=DOCUMENT, token=TOKEN)``
    (role name -> annotator type, in the order its batch function takes them)."""
    return tuple(annotator_types.items())


def is_annotation_type(data_type: DataType) -> bool:
    """Whether a Spark type is an annotation column (array of annotation structs)."""
    if not isinstance(data_type, ArrayType) or not isinstance(data_type.elementType, StructType):
        return False
    names = data_type.elementType.fieldNames()
    return all(name in names for name in ("annotatorType", "begin", "end", "result", "metadata"))


def annotator_type_of(field: StructField) -> str | None:
    """The annotator type recorded in a column's metadata, if any."""
    return (field.metadata or {}).get(ANNOTATOR_TYPE_KEY)


def annotator_types_of(schema: StructType) -> dict[str, str | None]:
    """Each column's recorded annotator type (None where there is none)."""
    return {f.name: annotator_type_of(f) for f in schema.fields}


def input_field(stage: str, schema: StructType, name: str) -> StructField:
    """The column ``name`` of ``schema``, which must exist; the error names the ``stage`` (its
    description), the column and the columns there are."""
    names = schema.fieldNames()
    if name not in names:
        raise AnnotatorInputError(
            f"{stage}: input column {name!r} does not exist; the DataFrame has columns "
            f"{sorted(names)}"
        )
    return schema[name]


def wrong_type(stage: str, field: StructField, expected: str) -> AnnotatorInputError:
    """The error for an input column of the wrong Spark type."""
    return AnnotatorInputError(
        f"{stage}: input column {field.name!r} is of Spark type "
        f"{field.dataType.simpleString()}, expected {expected}"
    )


def check_annotation_columns(stage: str, schema: StructType, names: Sequence[str]) -> None:
    """Each of ``names`` is a column of ``schema`` holding annotations (see
    :func:`input_field`)."""
    expected = (
        "an annotation column (array<struct<annotatorType,begin,end,result,metadata,embeddings>>)"
    )
    for name in names:
        field = input_field(stage, schema, name)
        if not is_annotation_type(field.dataType):
            raise wrong_type(stage, field, expected)


def with_columns(schema: StructType, fields: Iterable[StructField]) -> StructType:
    """``schema`` as ``withColumn`` leaves it for each field in turn: a column of the same
    name (Spark's default resolution: any letter case) is replaced where it stands, and a
    new name is appended."""
    result = list(schema.fields)
    for field in fields:
        same = [i for i, f in enumerate(result) if f.name.lower() == field.name.lower()]
        for i in same:
            result[i] = field
        if not same:
            result.append(field)
    return StructType(result)


def pipeline_schema(stages: Iterable[Any], schema: StructType) -> StructType:
    """The schema a pipeline of sparkner stages makes of ``schema``, every stage's input
    checked on the way (each stage's ``transformSchema``): no job, no server round trip."""
    for stage in stages:
        schema = stage.transformSchema(schema)
    return schema


class FinisherStage:
    """Marks a stage that turns annotation columns into plain columns (the Finisher and the
    EmbeddingsFinisher): it annotates nothing, so the LightPipeline and the fused UDF skip it
    (as Spark NLP's LightPipeline does)."""


class AnnotatorStage(Transformer, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """Base of every stage that writes an annotation column.

    A subclass declares ``output_annotator_type``, how its inputs are found and checked
    (:meth:`resolve_inputs`, :meth:`checked_inputs`) and :meth:`batch_function`, the pure
    function over Arrow arrays that does the work.
    """

    output_annotator_type: ClassVar[str]
    # The Arrow type of every input column of the batch function.
    input_arrow_type: ClassVar[pa.DataType] = ANNOTATIONS_ARROW_TYPE
    # Size of one call of the batch function on Spark, in bytes or annotations of its first
    # input (see regroup; None: each Arrow batch as Spark sends it); set for stages whose
    # output dwarfs their input, so no output batch grows too large.
    max_call_size: ClassVar[int | None] = None
    # The roles the batch function reads (None: all); the others arrive as None on Spark.
    reads: ClassVar[tuple[str, ...] | None] = None
    # Whether the stage's work dominates a pipeline's (a network over every token): the fused
    # transform runs such a stage once for all the columns that depend on it.
    costly: ClassVar[bool] = False

    # -- what a subclass provides -------------------------------------------------------------
    @abstractmethod
    def resolve_inputs(self, column_types: Mapping[str, str | None] | None = None) -> InputColumns:
        """The input columns by role, matched by the columns' annotator types
        (``column_types``: column -> type) where known; no schema needed."""

    @abstractmethod
    def checked_inputs(self, schema: StructType) -> InputColumns:
        """:meth:`resolve_inputs` for the columns of ``schema``, each checked; raises
        :class:`AnnotatorInputError` if an input is missing or not as expected."""

    @abstractmethod
    def batch_function(self) -> BatchFunction:
        """The pure function (Arrow arrays in, an annotation array out) that does the work."""

    def spark_batch_function(self, spark: SparkSession) -> BatchFunction:
        """The batch function for the Spark path; stages with files ship them here first."""
        return self.batch_function()

    def output_labels(
        self, input_labels: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        """The results this stage can write (a tagger's tags, a converter's entity types),
        given those of its inputs by role; None where results are free text."""
        return None

    def output_column_metadata(self, inputs: InputColumns) -> dict[str, Any]:
        """The metadata recorded on the output column (its annotator type, at least)."""
        return column_metadata(self.output_annotator_type)

    # -- shared plumbing ----------------------------------------------------------------------
    def output_field(self, inputs: InputColumns) -> StructField:
        """The output column as ``transform`` writes it."""
        metadata = self.output_column_metadata(inputs)
        return StructField(self.getOutputCol(), ANNOTATIONS_SPARK_TYPE, True, metadata)

    def transformSchema(self, schema: StructType) -> StructType:
        """The schema ``transform`` gives a DataFrame of ``schema``, its inputs checked as
        ``transform`` checks them; computed here, without Spark."""
        return with_columns(schema, [self.output_field(self.checked_inputs(schema))])

    def _transform(self, dataset: DataFrame) -> DataFrame:
        schema = dataset.schema
        return self.annotate(dataset, self.checked_inputs(schema), schema)

    def annotate(self, dataset: DataFrame, inputs: InputColumns, schema: StructType) -> DataFrame:
        """``dataset`` (of ``schema``) with the output column, from its checked ``inputs``."""
        read = [self.reads is None or role in self.reads for role in inputs]
        function = self.spark_batch_function(dataset.sparkSession)
        if not all(read):
            # Columns the batch function does not read are not sent to the Python worker.
            function = UnreadInputs(function, read)
        columns = [name for name, used in zip(inputs.values(), read, strict=True) if used]
        return self.annotate_with(dataset, columns, function, inputs)

    def annotate_with(
        self,
        dataset: DataFrame,
        columns: Sequence[str],
        function: BatchFunction,
        inputs: InputColumns,
    ) -> DataFrame:
        """``dataset`` with the output column: ``function`` over ``columns`` in a vectorized
        UDF; ``inputs`` are the stage's checked inputs."""
        udf = vectorized_udf(
            function,
            [self.input_arrow_type] * len(columns),
            name=type(self).__name__,
            max_call_size=self.max_call_size,
        )
        field = self.output_field(inputs)
        annotated = udf(*(dataset[c] for c in columns)).alias(field.name, metadata=field.metadata)
        return dataset.withColumn(field.name, annotated)

    def _describe(self) -> str:
        return f"{type(self).__name__} (outputCol {self.getOutputCol()!r})"


class AnnotatorTransformer(AnnotatorStage, HasInputCols):
    """A stage that reads annotation columns, one per role of ``input_roles``.

    Columns are matched to the roles by the annotator type recorded in their metadata, so the
    order given to ``setInputCols`` does not matter; columns without that record are taken in
    the order given. ``optional_roles`` may follow the required ones: inputCols then names
    the required columns plus the first few optional ones.
    """

    input_roles: ClassVar[tuple[tuple[str, str], ...]]
    optional_roles: ClassVar[tuple[tuple[str, str], ...]] = ()

    def expected_roles(self) -> tuple[tuple[str, str], ...]:
        """The roles (and annotator types) of the inputs as set: the required ones, then as
        many of the optional ones as inputCols has further columns."""
        extra = len(self.getInputCols()) - len(self.input_roles)
        return self.input_roles + self.optional_roles[: max(extra, 0)]

    def resolve_inputs(self, column_types: Mapping[str, str | None] | None = None) -> InputColumns:
        given = list(self.getInputCols())
        expected = self.expected_roles()
        if len(given) != len(expected):
            optional = [t for _, t in self.optional_roles]
            also = f", optionally followed by {optional}" if optional else ""
            raise AnnotatorInputError(
                f"{self._describe()}: inputCols {given} has {len(given)} columns, expected "
                f"{len(self.input_roles)} (of annotator types "
                f"{[t for _, t in self.input_roles]}{also})"
            )
        column_types = column_types or {}
        remaining = list(given)
        matched: dict[str, str] = {}
        for role, wanted in expected:
            match = next((c for c in remaining if column_types.get(c) == wanted), None)
            if match is not None:
                matched[role] = match
                remaining.remove(match)
        # Columns without a recorded type take the roles left, in the order given.
        return {role: matched.get(role) or remaining.pop(0) for role, _ in expected}

    def checked_inputs(self, schema: StructType) -> InputColumns:
        check_annotation_columns(self._describe(), schema, self.getInputCols())
        column_types = annotator_types_of(schema)
        inputs = self.resolve_inputs(column_types)
        by_name = {f.name: f for f in schema.fields}
        for role, wanted in self.expected_roles():
            name = inputs[role]
            found = column_types.get(name)
            if found is not None and found != wanted:
                raise AnnotatorInputError(
                    f"{self._describe()}: input column {name!r} holds {found!r} annotations, "
                    f"expected {wanted!r}"
                )
            self._check_storage_ref(by_name[name])
        return inputs

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
    """A stage that reads one plain string column (the DocumentAssembler), as role ``text``."""

    input_arrow_type = pa.string()

    def side_columns(self) -> list[str]:
        """Plain columns read beside the text on Spark (the DocumentAssembler's idCol and
        metadataCol): a pipeline that reads any is run stage by stage, never fused."""
        return []

    def resolve_inputs(self, column_types: Mapping[str, str | None] | None = None) -> InputColumns:
        return {"text": self.getInputCol()}

    def checked_inputs(self, schema: StructType) -> InputColumns:
        field = input_field(self._describe(), schema, self.getInputCol())
        if not isinstance(field.dataType, StringType):
            raise wrong_type(self._describe(), field, "string")
        return self.resolve_inputs()
