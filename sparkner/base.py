"""What every sparkner stage shares: column params, input checks, the vectorized UDF, persistence.

An annotator is a pure function over a batch of rows: it takes Arrow arrays (one per input
column) and returns an Arrow array of annotation lists. :class:`AnnotatorStage` turns that
function into a Spark column (through ``arrow_udf`` where pyspark has it, ``pandas_udf``
otherwise) and the LightPipeline calls the very same function on a local batch.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml import Transformer
from pyspark.ml.param import Params
from pyspark.ml.param.shared import HasInputCol, HasInputCols, HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql.types import ArrayType, DataType, StringType, StructField, StructType

from sparkner.annotation import (
    ANNOTATIONS_ARROW_TYPE,
    ANNOTATIONS_SPARK_TYPE,
    ANNOTATOR_TYPE_KEY,
    STORAGE_REF_KEY,
    WORD_EMBEDDINGS,
    column_metadata,
)

BatchFunction = Callable[..., pa.Array]

try:  # pyspark >= 4.1
    from pyspark.sql.functions import arrow_udf as _arrow_udf
except ImportError:  # pyspark 4.0 (Databricks runtimes still ship it)
    _arrow_udf = None


class AnnotatorInputError(ValueError):
    """An input column is missing or holds the wrong kind of data."""


def has_arrow_udf() -> bool:
    """Whether this pyspark has ``arrow_udf`` (4.1+); else stages use ``pandas_udf``."""
    return _arrow_udf is not None


# Text per call of a whole pipeline (the LightPipeline, the annotate job's one UDF): calls
# this large keep the tagger's batches full of sentences (64 NCBI sentences per call ran at
# half the speed of 1,024), and bound the word vectors a call holds (about 45,000 tokens:
# 36 MB) whether the texts are one-line sentences or long notes.
TEXT_BYTES_PER_CALL = 256 * 1024


def vectorized_udf(
    function: BatchFunction,
    input_types: Sequence[pa.DataType],
    return_type: DataType = ANNOTATIONS_SPARK_TYPE,
    use_arrow: bool | None = None,
    name: str | None = None,
    max_call_size: int | None = None,
) -> Callable[..., Column]:
    """Wrap a batch function over Arrow arrays into a Spark UDF of the iterator form.

    ``input_types`` are the Arrow types of the inputs, used by the ``pandas_udf`` fallback to
    turn each pandas Series back into Arrow. ``use_arrow`` forces one wrapper (tests);
    the default takes ``arrow_udf`` when pyspark has it. ``name`` shows in query plans.
    ``max_call_size`` regroups the rows Spark sends (see :func:`regroup`) so that each call
    of ``function`` holds about that much of its first input: bytes of text, or annotations.
    """
    if use_arrow is None:
        use_arrow = has_arrow_udf()
    if use_arrow and _arrow_udf is None:
        raise RuntimeError("arrow_udf needs pyspark 4.1 or newer")
    if use_arrow:
        runner = _arrow_batches(function, len(input_types), max_call_size)
    else:
        runner = _pandas_batches(function, tuple(input_types), max_call_size)
    if name:
        runner.__name__ = runner.__qualname__ = name
    if use_arrow:
        return _arrow_udf(runner, return_type)
    from pyspark.sql.functions import pandas_udf

    return pandas_udf(runner, return_type)


def row_sizes(column: pa.Array) -> np.ndarray:
    """Each row's size, for batching: the bytes of a text, the annotations of a list (a null
    row: 0)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        sizes = pc.binary_length(column)
    else:
        sizes = pc.list_value_length(column)
    return pc.fill_null(sizes, 0).to_numpy(zero_copy_only=False).astype(np.int64)


def regroup(
    batches: Iterable[Sequence[pa.Array]], max_size: int | None
) -> Iterator[list[pa.Array]]:
    """The rows of consecutive batches (each a sequence of equally long columns), in order,
    regrouped into calls whose first column sums to at most ``max_size`` (:func:`row_sizes`),
    one row at least: small batches are joined, large ones cut. ``None``: batches as they are.

    Spark's iterator UDFs only need as many output rows as input rows in total, so calls need
    not line up with the batches Spark sends.
    """
    if not max_size:
        for columns in batches:
            yield list(columns)
        return
    pending: list[Sequence[pa.Array]] = []
    pending_size = 0
    for columns in batches:
        ends = np.cumsum(row_sizes(columns[0]))
        start, rows = 0, len(ends)
        while start < rows:
            before = int(ends[start - 1]) if start else 0
            stop = int(np.searchsorted(ends, before + max_size - pending_size, side="right"))
            if stop > start or not pending:  # rows that fit, or one row alone
                stop = max(stop, start + 1)
                pending.append([column.slice(start, stop - start) for column in columns])
                pending_size += int(ends[stop - 1]) - before
                start = stop
                if start == rows:
                    break  # the call may still take rows of the next batch
            yield _joined(pending)
            pending, pending_size = [], 0
    if pending:
        yield _joined(pending)


def _joined(pieces: list[Sequence[pa.Array]]) -> list[pa.Array]:
    if len(pieces) == 1:
        return list(pieces[0])
    return [pa.concat_arrays(list(parts)) for parts in zip(*pieces, strict=True)]


# Test-only: tests/test_failures.py sets this to a marker file's path to kill one Python
# worker in the middle of a job (Spark must retry the task). Unset in any real run.
_TEST_KILL_WORKER = "SPARKNER_TEST_KILL_WORKER"
# Test-only: when set (to anything), every batch raises, on every attempt, so the job fails
# (tests/test_failures.py checks what a failed job shows). Unset in any real run.
_TEST_FAIL_TASK = "SPARKNER_TEST_FAIL_TASK"


class InjectedTaskFailure(RuntimeError):
    """Test-only: the failure that ``SPARKNER_TEST_FAIL_TASK`` injects."""


def _test_kill_hook() -> None:
    """Test-only: the first worker to create the marker file exits at once, as a crash would;
    with ``SPARKNER_TEST_FAIL_TASK``, every batch fails instead."""
    if os.environ.get(_TEST_FAIL_TASK):
        raise InjectedTaskFailure(f"test-only failure injected by {_TEST_FAIL_TASK}")
    marker = os.environ.get(_TEST_KILL_WORKER)
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # atomic: one winner
    except FileExistsError:
        return
    os._exit(1)


def _calls(
    function: BatchFunction, batches: Iterable[Sequence[pa.Array]], max_size: int | None
) -> Iterator[pa.Array]:
    """``function`` over the batches' rows, regrouped by :func:`regroup`."""
    for columns in regroup(batches, max_size):
        _test_kill_hook()
        yield function(*columns)


def _arrow_batches(
    function: BatchFunction, arity: int, max_size: int | None
) -> Callable[..., Iterator[pa.Array]]:
    # pyspark reads the iterator form from the type hints, which differ by arity.
    if arity == 1:

        def run_one(batches: Iterator[pa.Array]) -> Iterator[pa.Array]:
            yield from _calls(function, ((batch,) for batch in batches), max_size)

        return run_one

    def run_many(batches: Iterator[tuple[pa.Array, ...]]) -> Iterator[pa.Array]:
        yield from _calls(function, batches, max_size)

    return run_many


def _pandas_batches(
    function: BatchFunction, input_types: tuple[pa.DataType, ...], max_size: int | None
) -> Callable[[Iterator[Any]], Iterator[pd.Series]]:
    def convert(series: tuple[pd.Series, ...]) -> list[pa.Array]:
        return [
            pa.array(_plain_python(s), type=t, from_pandas=True)
            for s, t in zip(series, input_types, strict=True)
        ]

    def run(batches: Iterable[tuple[pd.Series, ...]]) -> Iterator[pd.Series]:
        for output in _calls(function, (convert(b) for b in batches), max_size):
            yield _to_pandas_annotations(output)

    # pyspark reads the iterator form from the type hints, which differ by arity.
    if len(input_types) == 1:

        def run_one(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
            yield from run((batch,) for batch in batches)

        return run_one

    def run_many(batches: Iterator[tuple[pd.Series, ...]]) -> Iterator[pd.Series]:
        yield from run(batches)

    return run_many


def _plain_python(series: pd.Series) -> list[Any]:
    """pandas gives nested values as numpy arrays and maps as pair lists; Arrow wants lists."""
    return [_unwrap(value) for value in series]


def _unwrap(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [_unwrap(v) for v in value]
    return value


def _to_pandas_annotations(column: pa.Array) -> pd.Series:
    rows = column.to_pylist(maps_as_pydicts="strict")
    return pd.Series(rows, dtype=object)


class UnreadInputs:
    """A batch function called with only the inputs it reads; None stands in for the rest."""

    def __init__(self, function: BatchFunction, read: Sequence[bool]) -> None:
        self.function = function
        self.read = tuple(read)

    def __call__(self, *columns: pa.Array) -> pa.Array:
        given = iter(columns)
        return self.function(*(next(given) if used else None for used in self.read))


def at_least(name: str, value: float, low: float) -> float:
    """Check a setting's lower bound; the error names the setting."""
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def non_negative(name: str, value: int) -> int:
    """Check a count setting; the error names the setting."""
    return int(at_least(name, int(value), 0))


def positive(name: str, value: float) -> float:
    if not float(value) > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return float(value)


def is_annotation_type(data_type: DataType) -> bool:
    """Whether a Spark type is an annotation column (array of annotation structs)."""
    if not isinstance(data_type, ArrayType) or not isinstance(data_type.elementType, StructType):
        return False
    names = data_type.elementType.fieldNames()
    return all(name in names for name in ("annotatorType", "begin", "end", "result", "metadata"))


def annotator_type_of(field: StructField) -> str | None:
    """The annotator type recorded in a column's metadata, if any."""
    return (field.metadata or {}).get(ANNOTATOR_TYPE_KEY)


def apply_setters(params: Params, kwargs: Mapping[str, Any]) -> Params:
    """Apply constructor keywords through the fluent setters, so they are checked alike."""
    for name, value in kwargs.items():
        if value is not None:
            getattr(params, f"set{name[0].upper()}{name[1:]}")(value)
    return params


class InputColsParam(HasInputCols):
    """``inputCols`` with Spark NLP's setter: a list, or the names as arguments."""

    def setInputCols(self, *value: str | Sequence[str]) -> Any:
        cols = list(value[0]) if len(value) == 1 and not isinstance(value[0], str) else value
        return self._set(inputCols=[str(c) for c in cols])


class OutputColParam(HasOutputCol):
    def setOutputCol(self, value: str) -> Any:
        return self._set(outputCol=value)


class AnnotatorStage(Transformer, OutputColParam, DefaultParamsReadable, DefaultParamsWritable):
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

    def set_params_from(self, kwargs: Mapping[str, Any]) -> AnnotatorStage:
        """Apply constructor keywords through the fluent setters, so they are checked alike."""
        return apply_setters(self, kwargs)

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
        self, dataset: DataFrame, columns: Sequence[str], types: Sequence[pa.DataType],
        function: BatchFunction, input_names: list[str],
    ) -> DataFrame:  # fmt: skip
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


class AnnotatorTransformer(AnnotatorStage, InputColsParam):
    """A stage that reads annotation columns, matched to ``input_annotator_types``.

    Columns are matched to the expected types by the annotator type recorded in their
    metadata, so the order given to ``setInputCols`` does not matter; columns without that
    record are taken in the order given.
    """

    input_annotator_types: ClassVar[tuple[str, ...]]

    def input_columns(self, column_types: Mapping[str, str | None] | None = None) -> list[str]:
        given = list(self.getInputCols())
        expected = self.input_annotator_types
        if len(given) != len(expected):
            raise AnnotatorInputError(
                f"{self._describe()}: inputCols {given} has {len(given)} columns, expected "
                f"{len(expected)} (of annotator types {list(expected)})"
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
        for name in self.getInputCols():
            if name not in by_name:
                raise AnnotatorInputError(
                    f"{self._describe()}: input column {name!r} does not exist; the DataFrame "
                    f"has columns {sorted(by_name)}"
                )
            if not is_annotation_type(by_name[name].dataType):
                raise AnnotatorInputError(
                    f"{self._describe()}: input column {name!r} is of Spark type "
                    f"{by_name[name].dataType.simpleString()}, expected an annotation column "
                    f"(array<struct<annotatorType,begin,end,result,metadata,embeddings>>)"
                )
        for name, wanted in zip(
            self.input_columns(column_types), self.input_annotator_types, strict=True
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

    def setInputCol(self, value: str) -> TextInputStage:
        return self._set(inputCol=value)

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
