"""Batch functions as Spark UDFs: the vectorized wrapper, and calls sized by their input.

A stage's work is a pure function over Arrow arrays (one per input column) returning an Arrow
array; :func:`vectorized_udf` runs it in Spark's iterator-form ``arrow_udf`` (``pandas_udf``
on pyspark 4.0), and :func:`regroup` sizes its calls by text or annotations, not by rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DataType

from sparkner.core.spark_types import ANNOTATIONS_SPARK_TYPE
from sparkner.runtime import faults

BatchFunction = Callable[..., pa.Array]

# pyspark >= 4.1; None on pyspark 4.0 (Databricks runtimes still ship it). Untyped, as is
# pandas_udf below: pyspark's overloads ask for a functionType, which the runner's type hints
# replace.
_arrow_udf: Callable[..., Any] | None = getattr(F, "arrow_udf", None)


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
    if use_arrow and _arrow_udf is not None:
        return _arrow_udf(runner, return_type)
    pandas_udf: Callable[..., Any] = F.pandas_udf
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


def _calls(
    function: BatchFunction, batches: Iterable[Sequence[pa.Array]], max_size: int | None
) -> Iterator[pa.Array]:
    """``function`` over the batches' rows, regrouped by :func:`regroup`."""
    calls = regroup(batches, max_size)
    if faults.INJECTED is not None:  # test-only; None in every real run
        calls = faults.injected(calls)
    for columns in calls:
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
