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

from typing import Any, ClassVar

from pyspark.ml import Transformer
from pyspark.ml.functions import array_to_vector
from pyspark.ml.param import TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from sparkner.core.annotation import WORD_EMBEDDINGS
from sparkner.core.params import HasInputCols, declare, non_empty
from sparkner.stages.stage import (
    AnnotatorInputError,
    FinisherStage,
    annotator_type_of,
    check_annotation_columns,
    is_annotation_type,
)

SENTENCE_EMBEDDINGS = "sentence_embeddings"


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

    def setOutputCols(self, *value: Any) -> Any:
        """The output columns: a list, or the names as arguments (as in Spark NLP)."""
        cols = list(value[0]) if len(value) == 1 and not isinstance(value[0], str) else value
        return self._set(outputCols=[str(c) for c in cols])

    def getOutputCols(self) -> list[str]:
        if self.isDefined(self.outputCols) and self.getOrDefault(self.outputCols):
            return list(self.getOrDefault(self.outputCols))
        return [f"finished_{c}" for c in self.getInputCols()]

    def _columns(self, schema: StructType) -> list[tuple[str, str]]:
        """(input, output) pairs, the inputs checked to be annotation columns."""
        name = type(self).__name__
        if not self.isDefined(self.inputCols) or not self.getInputCols():
            raise AnnotatorInputError(f"{name}: set inputCols, the annotation columns to finish")
        inputs, outputs = list(self.getInputCols()), self.getOutputCols()
        if len(inputs) != len(outputs):
            raise AnnotatorInputError(
                f"{name}: inputCols {inputs} and outputCols {outputs} must have the same length"
            )
        check_annotation_columns(name, schema, inputs)
        return list(zip(inputs, outputs, strict=True))

    def _clean(self, dataset: DataFrame, keep: list[str]) -> DataFrame:
        if not self.getOrDefault(self.cleanAnnotations):
            return dataset
        drop = [
            f.name
            for f in dataset.schema.fields
            if is_annotation_type(f.dataType) and f.name not in keep
        ]
        return dataset.drop(*drop)


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

    def _transform(self, dataset: DataFrame) -> DataFrame:
        pairs = self._columns(dataset.schema)
        as_array = self.getOrDefault(self.outputAsArray)
        metadata = self.getOrDefault(self.includeMetadata)
        value_sep = self.getOrDefault(self.valueSplitSymbol)
        annotation_sep = self.getOrDefault(self.annotationSplitSymbol)
        types = {f.name: annotator_type_of(f) for f in dataset.schema.fields}
        outputs: list[str] = []
        for source, target in pairs:
            annotations = F.coalesce(F.col(source), F.array())
            parse = self.getOrDefault(self.parseEmbeddingsVectors) and types.get(source) in (
                WORD_EMBEDDINGS,
                SENTENCE_EMBEDDINGS,
            )

            def result(a: Column, sep: str, parse: bool = parse) -> Column:
                if not parse:
                    return a["result"]
                return F.array_join(F.transform(a["embeddings"], lambda v: v.cast("string")), sep)

            if as_array:
                dataset = dataset.withColumn(
                    target, F.transform(annotations, lambda a: result(a, " "))
                )
                outputs.append(target)
                if metadata:
                    dataset = dataset.withColumn(f"{target}_metadata", _merged(annotations))
                    outputs.append(f"{target}_metadata")
                continue
            if metadata:
                pieces = F.transform(
                    annotations, lambda a: _detail(a, result(a, value_sep), value_sep)
                )
            else:
                pieces = F.transform(annotations, lambda a: result(a, value_sep))
            dataset = dataset.withColumn(target, F.array_join(pieces, annotation_sep))
            outputs.append(target)
        return self._clean(dataset, outputs)


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

    def _transform(self, dataset: DataFrame) -> DataFrame:
        pairs = self._columns(dataset.schema)
        fields = {f.name: f for f in dataset.schema.fields}
        for source, _ in pairs:
            found = annotator_type_of(fields[source])
            if found is not None and found not in (WORD_EMBEDDINGS, SENTENCE_EMBEDDINGS):
                raise AnnotatorInputError(
                    f"EmbeddingsFinisher: input column {source!r} holds {found!r} annotations, "
                    f"expected word or sentence embeddings"
                )
        as_vector = self.getOrDefault(self.outputAsVector)
        for source, target in pairs:
            vectors = F.transform(F.coalesce(F.col(source), F.array()), lambda a: a["embeddings"])
            if as_vector:
                vectors = F.transform(vectors, lambda v: array_to_vector(v))
            dataset = dataset.withColumn(target, vectors)
        return self._clean(dataset, [target for _, target in pairs])
