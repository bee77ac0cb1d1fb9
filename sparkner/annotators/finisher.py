"""Finisher and EmbeddingsFinisher: annotation columns to plain Spark columns, as in Spark NLP.

Both are ordinary ``pyspark.ml`` Transformers written in Spark SQL (no Python UDF): they run in
the JVM and need no Python worker. They are not annotators: the LightPipeline skips them (as
Spark NLP's does) and returns the annotation columns, so a Spark NLP pipeline that ends with
a finisher runs in a LightPipeline unchanged.

``Finisher`` (Spark NLP's semantics): for each input column, ``finished_<col>`` (or the
``outputCols``) holds the annotations' results as ``array<string>`` (``outputAsArray``, the
default) or as one string joined by ``annotationSplitSymbol`` ("@"). ``includeMetadata``
adds, with arrays, ``<out>_metadata``: a ``map<string,string>`` of the annotations'
metadata merged in order (a later annotation's value wins for a repeated key, as in Spark
NLP); with strings, each annotation is written as ``key->value`` pairs and
``result->...`` joined by ``valueSplitSymbol`` ("#"), annotations by
``annotationSplitSymbol``. ``cleanAnnotations`` (default True) drops every annotation
column of the DataFrame afterwards, as Spark NLP does (not only the input columns).

``EmbeddingsFinisher``: each input column of ``word_embeddings`` (or sentence embeddings)
becomes ``array<array<float>>``, or with ``outputAsVector`` an ``array<vector>`` of dense
``pyspark.ml.linalg`` vectors for Spark ML (KMeans, LogisticRegression, ...).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pyspark.ml import Transformer
from pyspark.ml.functions import array_to_vector
from pyspark.ml.linalg import VectorUDT
from pyspark.ml.param import TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, MapType, StringType, StructField, StructType

from sparkner.core.annotation import WORD_EMBEDDINGS
from sparkner.core.params import HasInputCols, declare, non_empty
from sparkner.stages.stage import (
    AnnotatorInputError,
    FinisherStage,
    annotator_type_of,
    check_annotation_columns,
    is_annotation_type,
    with_columns,
)

if TYPE_CHECKING:
    from typing_extensions import Self

SENTENCE_EMBEDDINGS = "sentence_embeddings"
EMBEDDINGS_TYPES = (WORD_EMBEDDINGS, SENTENCE_EMBEDDINGS)


class _FinisherParams(HasInputCols):
    outputCols = declare(
        "outputCols",
        "the output columns, one per input column (default: finished_<input>)",
        TypeConverters.toListString,
    )
    cleanAnnotations = declare(
        "cleanAnnotations",
        "whether to drop every annotation column of the DataFrame",
        TypeConverters.toBoolean,
        default=True,
    )

    def setOutputCols(self, *value: Any) -> Self:
        """The output columns: a list, or the names as arguments (as in Spark NLP)."""
        cols = list(value[0]) if len(value) == 1 and not isinstance(value[0], str) else value
        return self._set(outputCols=[str(c) for c in cols])

    def getOutputCols(self) -> list[str]:
        if self.isDefined(self.outputCols) and self.getOrDefault(self.outputCols):
            return list(self.getOrDefault(self.outputCols))
        return [f"finished_{c}" for c in self.getInputCols()]

    def _columns(self, schema: StructType) -> list[tuple[StructField, str]]:
        """(input column, output name) pairs, the inputs checked to be annotation columns
        this finisher can finish: the check of ``transform`` and ``transformSchema``."""
        name = type(self).__name__
        if not self.isDefined(self.inputCols) or not self.getInputCols():
            raise AnnotatorInputError(f"{name}: set inputCols, the annotation columns to finish")
        inputs, outputs = list(self.getInputCols()), self.getOutputCols()
        if len(inputs) != len(outputs):
            raise AnnotatorInputError(
                f"{name}: inputCols {inputs} and outputCols {outputs} must have the same length"
            )
        check_annotation_columns(name, schema, inputs)
        fields = {f.name: f for f in schema.fields}
        for source in inputs:
            self._check_input(fields[source])
        return [(fields[source], target) for source, target in zip(inputs, outputs, strict=True)]

    def _check_input(self, field: StructField) -> None:
        """Raise :class:`AnnotatorInputError` if this finisher cannot finish the column."""

    @abstractmethod
    def _output_fields(self, source: StructField, target: str) -> list[StructField]:
        """The columns (name, Spark type) ``transform`` makes of ``source``, named
        ``target``: the types Spark SQL gives the finishing expressions."""

    def _finished_schema(self, schema: StructType, outputs: list[StructField]) -> StructType:
        """``schema`` with the ``outputs`` added, less the annotation columns that
        cleanAnnotations drops."""
        finished = with_columns(schema, outputs)
        drop = self._dropped(finished, [f.name for f in outputs])
        return StructType([f for f in finished.fields if f.name not in drop])

    def _dropped(self, schema: StructType, keep: list[str]) -> list[str]:
        if not self.getOrDefault(self.cleanAnnotations):
            return []
        return [
            f.name for f in schema.fields if is_annotation_type(f.dataType) and f.name not in keep
        ]

    def transformSchema(self, schema: StructType) -> StructType:
        """The schema ``transform`` gives a DataFrame of ``schema``, its inputs checked as
        ``transform`` checks them; computed here, without Spark."""
        outputs = [
            field
            for source, target in self._columns(schema)
            for field in self._output_fields(source, target)
        ]
        return self._finished_schema(schema, outputs)

    def _finish(
        self, dataset: DataFrame, schema: StructType, columns: list[tuple[StructField, Column]]
    ) -> DataFrame:
        """``dataset`` (of ``schema``) with the finished ``columns`` (each with its field),
        cleaned."""
        for field, column in columns:
            dataset = dataset.withColumn(field.name, column)
        outputs = [field for field, _ in columns]
        drop = self._dropped(with_columns(schema, outputs), [f.name for f in outputs])
        return dataset.drop(*drop) if drop else dataset


def _annotation_array(source: StructField) -> tuple[ArrayType, StructType]:
    """An annotation column's array type and its annotations' struct (the inputs are
    checked to be annotation columns first: :func:`check_annotation_columns`)."""
    array = source.dataType
    if not isinstance(array, ArrayType) or not isinstance(array.elementType, StructType):
        raise TypeError(f"column {source.name!r} is not an annotation column")
    return array, array.elementType


def _element_field(source: StructField, name: str) -> tuple[StructField, bool]:
    """A field of an annotation column's structs, and whether a row's value of it may be
    null (the annotation may be, or the field)."""
    array, struct = _annotation_array(source)
    element = struct[name]
    return element, array.containsNull or element.nullable


class Finisher(
    FinisherStage, Transformer, _FinisherParams, DefaultParamsReadable, DefaultParamsWritable
):
    """Annotation columns to arrays of strings or strings (see the module docstring).

    >>> Finisher().setInputCols(["ner_chunk"]).transform(df).select("finished_ner_chunk")
    """

    stage_defaults: ClassVar[dict[str, Any]] = {}
    outputAsArray = declare(
        "outputAsArray",
        "results as array<string> (True) or one string (False)",
        TypeConverters.toBoolean,
        default=True,
    )
    includeMetadata = declare(
        "includeMetadata",
        "whether to write the annotations' metadata too",
        TypeConverters.toBoolean,
        default=False,
    )
    valueSplitSymbol = declare(
        "valueSplitSymbol",
        "separates the values of one annotation in a string",
        TypeConverters.toString,
        non_empty,
        default="#",
    )
    annotationSplitSymbol = declare(
        "annotationSplitSymbol",
        "separates annotations in a string",
        TypeConverters.toString,
        non_empty,
        default="@",
    )
    parseEmbeddingsVectors = declare(
        "parseEmbeddingsVectors",
        "whether the result of an embeddings annotation is its vector (values separated by "
        "spaces in arrays, by valueSplitSymbol in strings) instead of its token",
        TypeConverters.toBoolean,
        default=False,
    )

    def _parses(self, source: StructField) -> bool:
        """Whether the results of ``source`` are its vectors (parseEmbeddingsVectors)."""
        parse = self.getOrDefault(self.parseEmbeddingsVectors)
        return parse and annotator_type_of(source) in EMBEDDINGS_TYPES

    def _output_fields(self, source: StructField, target: str) -> list[StructField]:
        if not self.getOrDefault(self.outputAsArray):
            return [StructField(target, StringType(), False)]
        parse = self._parses(source)
        value, nullable = _element_field(source, "embeddings" if parse else "result")
        value_type = StringType() if parse else value.dataType
        fields = [StructField(target, ArrayType(value_type, nullable), False)]
        if self.getOrDefault(self.includeMetadata):
            metadata = _annotation_array(source)[1]["metadata"].dataType
            if not isinstance(metadata, MapType):
                raise TypeError(f"column {source.name!r}: the annotations' metadata is not a map")
            merged = MapType(metadata.keyType, metadata.valueType, True)
            fields.append(StructField(f"{target}_metadata", merged, False))
        return fields

    def _transform(self, dataset: DataFrame) -> DataFrame:
        schema = dataset.schema
        as_array = self.getOrDefault(self.outputAsArray)
        metadata = self.getOrDefault(self.includeMetadata)
        value_sep = self.getOrDefault(self.valueSplitSymbol)
        annotation_sep = self.getOrDefault(self.annotationSplitSymbol)
        columns: list[tuple[StructField, Column]] = []
        for source, target in self._columns(schema):
            annotations = F.coalesce(F.col(source.name), F.array())

            def result(a: Column, sep: str, parse: bool = self._parses(source)) -> Column:
                if not parse:
                    return a["result"]
                return F.array_join(F.transform(a["embeddings"], lambda v: v.cast("string")), sep)

            if as_array:
                made = [F.transform(annotations, lambda a: result(a, " "))]
                if metadata:
                    made.append(_merged(annotations))
            elif metadata:
                pieces = F.transform(
                    annotations, lambda a: _detail(a, result(a, value_sep), value_sep)
                )
                made = [F.array_join(pieces, annotation_sep)]
            else:
                pieces = F.transform(annotations, lambda a: result(a, value_sep))
                made = [F.array_join(pieces, annotation_sep)]
            columns += zip(self._output_fields(source, target), made, strict=True)
        return self._finish(dataset, schema, columns)


def _merged(annotations: Column) -> Column:
    """All the annotations' metadata in one map; for a repeated key the last value wins."""
    entries = F.flatten(
        F.transform(
            annotations,
            lambda a: F.map_entries(
                F.coalesce(a["metadata"], F.create_map().cast("map<string,string>"))
            ),
        )
    )
    keys = F.array_distinct(F.transform(entries, lambda e: e["key"]))
    values = F.transform(
        keys, lambda k: F.element_at(F.filter(entries, lambda e: e["key"] == k), -1)["value"]
    )
    return F.map_from_arrays(keys, values)


def _detail(annotation: Column, result: Column, sep: str) -> Column:
    """One annotation as ``key->value`` pairs, its metadata then ``result->...``."""
    pairs = F.transform(
        F.map_entries(
            F.coalesce(annotation["metadata"], F.create_map().cast("map<string,string>"))
        ),
        lambda e: F.concat(e["key"], F.lit("->"), F.coalesce(e["value"], F.lit(""))),
    )
    last = F.concat(F.lit("result->"), F.coalesce(result, F.lit("")))
    return F.array_join(F.concat(pairs, F.array(last)), sep)


class EmbeddingsFinisher(
    FinisherStage, Transformer, _FinisherParams, DefaultParamsReadable, DefaultParamsWritable
):
    """Embeddings annotation columns to arrays of vectors for Spark ML (see the module
    docstring)."""

    stage_defaults: ClassVar[dict[str, Any]] = {}
    outputAsVector = declare(
        "outputAsVector",
        "array<vector> of dense Spark ML vectors (True) or array<array<float>> (False)",
        TypeConverters.toBoolean,
        default=False,
    )

    def _check_input(self, field: StructField) -> None:
        found = annotator_type_of(field)
        if found is not None and found not in EMBEDDINGS_TYPES:
            raise AnnotatorInputError(
                f"EmbeddingsFinisher: input column {field.name!r} holds {found!r} annotations, "
                f"expected word or sentence embeddings"
            )

    def _output_fields(self, source: StructField, target: str) -> list[StructField]:
        if self.getOrDefault(self.outputAsVector):
            return [StructField(target, ArrayType(VectorUDT(), True), False)]
        embeddings, nullable = _element_field(source, "embeddings")
        return [StructField(target, ArrayType(embeddings.dataType, nullable), False)]

    def _transform(self, dataset: DataFrame) -> DataFrame:
        schema = dataset.schema
        as_vector = self.getOrDefault(self.outputAsVector)
        columns: list[tuple[StructField, Column]] = []
        for source, target in self._columns(schema):
            annotations = F.coalesce(F.col(source.name), F.array())
            vectors = F.transform(annotations, lambda a: a["embeddings"])
            if as_vector:
                vectors = F.transform(vectors, lambda v: array_to_vector(v))
            columns += zip(self._output_fields(source, target), [vectors], strict=True)
        return self._finish(dataset, schema, columns)
