"""The annotation type shared by every stage, as a Python value and an Arrow type (the Spark
type is in :mod:`sparkner.core.spark_types`, so that engines never import Spark).

An annotator column is ``array<struct<annotatorType, begin, end, result, metadata,
embeddings>>``. ``begin`` and ``end`` are character indices into the row's original text and
``end`` is inclusive, so ``text[begin:end + 1] == result`` for every span annotation.

Annotators never build one Python object per annotation: they read and write whole batches
through :class:`AnnotationBatch` and :func:`build_annotations`, which work on Arrow arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The annotator types of the stages.
DOCUMENT = "document"
TOKEN = "token"
WORD_EMBEDDINGS = "word_embeddings"
NAMED_ENTITY = "named_entity"
CHUNK = "chunk"
ASSERTION = "assertion"
LEXICON = "lexicon"
POS = "pos"
SECTION = "section"
# A resolver's code for a chunk (Spark NLP's resolvers write this type).
ENTITY = "entity"

# Keys of the column metadata: which annotator type a column holds, and for word embeddings,
# which vectors (their storageRef) made them, their dimension, and how to look them up again
# (see sparkner.annotators.word_embeddings, VectorLookup).
ANNOTATOR_TYPE_KEY = "annotatorType"
STORAGE_REF_KEY = "ref"
DIMENSION_KEY = "dimension"
LOOKUP_KEY = "sparknerLookup"

ANNOTATION_ARROW_TYPE = pa.struct(
    [
        pa.field("annotatorType", pa.string()),
        pa.field("begin", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("result", pa.string()),
        pa.field("metadata", pa.map_(pa.string(), pa.string())),
        pa.field("embeddings", pa.list_(pa.field("element", pa.float32(), nullable=False))),
    ]
)
ANNOTATIONS_ARROW_TYPE = pa.list_(pa.field("element", ANNOTATION_ARROW_TYPE))


@dataclass
class Annotation:
    """One annotation, as the LightPipeline's ``fullAnnotate`` returns it."""

    annotatorType: str
    begin: int
    end: int
    result: str
    metadata: dict[str, str] = field(default_factory=dict)
    embeddings: list[float] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Annotation:
        """From a dict as Arrow's ``to_pylist`` gives it (metadata as a list of pairs)."""
        metadata = row["metadata"] or {}
        return cls(
            annotatorType=row["annotatorType"],
            begin=row["begin"],
            end=row["end"],
            result=row["result"],
            metadata=dict(metadata),
            embeddings=list(row["embeddings"] or ()),
        )


def column_metadata(annotator_type: str) -> dict[str, str]:
    """The Spark column metadata that marks a column as holding ``annotator_type``."""
    return {ANNOTATOR_TYPE_KEY: annotator_type}


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous Arrow array from an array or a chunked column."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def distinct_strings(
    values: pa.Array | pa.ChunkedArray | Sequence[str],
) -> tuple[pa.Array, np.ndarray]:
    """The distinct strings of ``values`` and each value's index among them; a null's index is
    one past the last, so a lookup table with one extra row answers for nulls."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        strings = as_array(values)
    else:
        strings = pa.array(list(values), pa.string())
    encoded = pc.dictionary_encode(strings)
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(encoded.dictionary))
    return encoded.dictionary, indices.to_numpy(zero_copy_only=False).astype(np.int64)


class AnnotationBatch:
    """Read access to a batch of annotation lists (one list per row), column by column."""

    def __init__(self, column: pa.Array | pa.ChunkedArray) -> None:
        column = as_array(column)
        self.num_rows = len(column)
        self.annotations: pa.StructArray
        if column.null_count == 0:
            # The list offsets as they lie (absolute, honouring slicing): no compute calls,
            # which cost more than the rest of a one-note batch's reading.
            offsets = column.offsets.to_numpy().astype(np.int64)
            self.row_offsets = offsets - offsets[0]
            self.annotations = column.values.slice(int(offsets[0]), int(self.row_offsets[-1]))
            return
        lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
        self.row_offsets = np.zeros(self.num_rows + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.row_offsets[1:])
        # flatten() skips null rows and honours slicing, matching the offsets above.
        self.annotations = column.flatten()

    def __len__(self) -> int:
        return len(self.annotations)

    def row_of(self) -> np.ndarray:
        """For each annotation, the index of its row."""
        return np.repeat(np.arange(self.num_rows), np.diff(self.row_offsets))

    @cached_property
    def begin(self) -> np.ndarray:
        return self.annotations.field("begin").to_numpy(zero_copy_only=False).astype(np.int64)

    @cached_property
    def end(self) -> np.ndarray:
        return self.annotations.field("end").to_numpy(zero_copy_only=False).astype(np.int64)

    @cached_property
    def result(self) -> list[str]:
        return [r if r is not None else "" for r in self.annotations.field("result").to_pylist()]

    def metadata(self, key: str, default: str | None = None) -> pa.Array:
        """The value of ``key`` in each annotation's metadata: ``default`` where it is absent
        (null without one)."""
        maps = self.annotations.field("metadata")
        if len(maps) == 0:
            return pa.array([], pa.string())
        values = _same_position_lookup(maps, key)
        if values is None:
            values = pc.map_lookup(maps, pa.scalar(key, pa.string()), "first")
        if default is not None and values.null_count:
            values = pc.fill_null(values, default)
        return values

    def sentence_offsets(self) -> np.ndarray:
        """Where each sentence starts in the flat annotation list (plus the end): a new one
        starts wherever the row or the ``sentence`` metadata changes."""
        count = len(self)
        if count == 0:
            return np.zeros(1, dtype=np.int64)
        rows = self.row_of()
        sentence = self.int_metadata("sentence")
        change = (rows[1:] != rows[:-1]) | (sentence[1:] != sentence[:-1])
        starts = np.flatnonzero(np.concatenate([[True], change]))
        return np.concatenate([starts, [count]]).astype(np.int64)

    def int_metadata(self, key: str, default: int = 0) -> np.ndarray:
        """An integer metadata value (such as ``sentence``) for each annotation."""
        values = self.metadata(key, str(default))
        return pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False)


def _same_position_lookup(maps: pa.MapArray, key: str) -> pa.Array | None:
    """Fast path of a metadata lookup: annotators write the same keys in the same order for
    every annotation, so the values of ``key`` are every n-th item. None if that is not so."""
    if maps.null_count:
        return None
    offsets = maps.offsets.to_numpy()
    width = int(offsets[1] - offsets[0])
    if width == 0 or not (np.diff(offsets) == width).all():
        return None
    # keys and items ignore the array's slicing; offsets hold absolute positions into them.
    keys, items, base = maps.keys, maps.items, int(offsets[0])
    first_keys = keys.slice(base, width).to_pylist()
    if key not in first_keys:
        return None
    position = base + first_keys.index(key)
    picks = position + width * np.arange(len(maps), dtype=np.int64)
    if not _all_equal(keys, picks, key):
        return None
    if width == 1:  # one key per annotation: the values are the items as they lie
        return items.slice(base, len(maps))
    return pc.take(items, pa.array(picks))


def _all_equal(strings: pa.Array, positions: np.ndarray, value: str) -> bool:
    """Whether ``strings[positions]`` (a string array without nulls) all equal ``value``:
    compared on the array's bytes, as compute calls cost more than this on small batches."""
    if strings.type != pa.string() or strings.null_count:
        return bool(pc.all(pc.equal(pc.take(strings, pa.array(positions)), value)).as_py())
    wanted = np.frombuffer(value.encode(), dtype=np.uint8)
    _, offset_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[strings.offset :]
    starts = offsets[positions]
    if not (offsets[positions + 1] - starts == len(wanted)).all():
        return False
    if not len(wanted):
        return True
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    return bool((data[starts[:, None] + np.arange(len(wanted))] == wanted).all())


_NO_EMBEDDINGS = pa.array([], pa.float32())


def build_annotations(
    annotator_type: str,
    row_offsets: np.ndarray,
    begin: Sequence[int] | np.ndarray,
    end: Sequence[int] | np.ndarray,
    result: Sequence[str] | pa.Array,
    metadata: Mapping[str, Sequence[str] | pa.Array | np.ndarray],
    embeddings: np.ndarray | None = None,
) -> pa.ListArray:
    """Build an annotation column from flat, per-annotation columns.

    ``row_offsets`` (length rows + 1) says which annotations belong to which row. Every
    annotation gets the same metadata keys, less those whose value is null for it (a key
    with no value is left out, never written as null); integer arrays are written as
    decimal strings.
    ``embeddings`` is a (annotations, dim) float32 matrix, or None for none.
    """
    count = len(begin)
    begin_arr = pa.array(np.asarray(begin, dtype=np.int32), pa.int32())
    end_arr = pa.array(np.asarray(end, dtype=np.int32), pa.int32())
    result_arr = result if isinstance(result, pa.Array) else pa.array(result, pa.string())
    fields = [
        pa.repeat(pa.scalar(annotator_type, pa.string()), count),
        begin_arr,
        end_arr,
        result_arr,
        _metadata_maps(count, metadata),
        _embedding_lists(count, embeddings),
    ]
    annotations = pa.StructArray.from_arrays(fields, fields=list(ANNOTATION_ARROW_TYPE))
    offsets = pa.array(np.asarray(row_offsets, dtype=np.int32), pa.int32())
    return pa.ListArray.from_arrays(offsets, annotations, type=ANNOTATIONS_ARROW_TYPE)


def _metadata_maps(
    count: int, metadata: Mapping[str, Sequence[str] | pa.Array | np.ndarray]
) -> pa.MapArray:
    keys = list(metadata)
    width = len(keys)
    offsets = pa.array(np.arange(count + 1, dtype=np.int32) * width)
    if width == 0:
        return pa.MapArray.from_arrays(
            offsets, pa.array([], pa.string()), pa.array([], pa.string())
        )
    columns = [_string_column(metadata[key]) for key in keys]
    if width == 1:  # the common case (tokens, sentences): nothing to interleave
        values, names = columns[0], pa.repeat(pa.scalar(keys[0], pa.string()), count)
    else:
        # Interleave: annotation 0's values for every key, then annotation 1's, and so on.
        order = (np.arange(width)[None, :] * count + np.arange(count)[:, None]).ravel()
        values = pc.take(pa.concat_arrays(columns), pa.array(order))
        names = _repeated_strings(keys, count)
    if values.null_count:
        # A null value means "no such key" for that annotation (as in Spark NLP, whose
        # metadata maps never hold nulls): the key is left out of its map.
        present = pc.is_valid(values).to_numpy(zero_copy_only=False)
        kept = present.reshape(count, width).sum(axis=1)
        offsets = pa.array(np.concatenate([[0], np.cumsum(kept)]).astype(np.int32))
        mask = pa.array(present)
        names, values = pc.filter(names, mask), pc.filter(values, mask)
    return pa.MapArray.from_arrays(offsets, names, values)


def _repeated_strings(strings: Sequence[str], times: int) -> pa.Array:
    """``strings`` one after another, ``times`` over, built from its bytes (no compute call)."""
    encoded = [value.encode() for value in strings]
    lengths = np.tile([len(e) for e in encoded], times)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = b"".join(encoded) * times
    return pa.Array.from_buffers(
        pa.string(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _string_column(values: Sequence[str] | Sequence[int] | pa.Array | np.ndarray) -> pa.Array:
    """Metadata values as strings; numbers are written in decimal."""
    array = as_array(values) if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    return array if array.type == pa.string() else pc.cast(array, pa.string())


def _embedding_lists(count: int, embeddings: np.ndarray | None) -> pa.ListArray:
    item_type = ANNOTATION_ARROW_TYPE.field("embeddings").type
    if embeddings is None:
        return pa.ListArray.from_arrays(
            pa.array(np.zeros(count + 1, dtype=np.int32)), _NO_EMBEDDINGS, type=item_type
        )
    matrix = np.ascontiguousarray(embeddings, dtype=np.float32)
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    offsets = pa.array(np.arange(count + 1, dtype=np.int32) * dim)
    return pa.ListArray.from_arrays(offsets, pa.array(matrix.ravel()), type=item_type)
