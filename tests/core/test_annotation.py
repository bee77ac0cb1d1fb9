"""The annotation schema and the batch builders/readers every annotator uses."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pyspark.sql.types import ArrayType, FloatType, IntegerType, MapType, StringType

from sparkner.core.annotation import (
    ANNOTATION_ARROW_TYPE,
    ANNOTATIONS_ARROW_TYPE,
    Annotation,
    AnnotationBatch,
    build_annotations,
    column_metadata,
    distinct_strings,
)
from sparkner.core.spark_types import ANNOTATION_SPARK_TYPE


def test_spark_schema_fields_order_and_types():
    fields = [(f.name, f.dataType) for f in ANNOTATION_SPARK_TYPE.fields]
    assert fields == [
        ("annotatorType", StringType()),
        ("begin", IntegerType()),
        ("end", IntegerType()),
        ("result", StringType()),
        ("metadata", MapType(StringType(), StringType(), True)),
        ("embeddings", ArrayType(FloatType(), False)),
    ]
    assert [f.name for f in ANNOTATION_ARROW_TYPE] == [f.name for f in ANNOTATION_SPARK_TYPE.fields]


def test_column_metadata_names_the_type():
    assert column_metadata("token") == {"annotatorType": "token"}


def test_build_then_read_round_trip():
    # Row 0 has two annotations, row 1 none, row 2 one.
    column = build_annotations(
        "token",
        row_offsets=np.array([0, 2, 2, 3]),
        begin=[0, 4, 0],
        end=[2, 6, 1],
        result=["Dr.", "Who", "Hi"],
        metadata={"sentence": np.array([0, 1, 0]), "word": ["a", "b", "c"]},
    )
    assert column.type == ANNOTATIONS_ARROW_TYPE
    rows = column.to_pylist()
    assert [len(r) for r in rows] == [2, 0, 1]
    assert rows[0][1]["result"] == "Who" and rows[0][1]["end"] == 6
    assert dict(rows[0][1]["metadata"]) == {"sentence": "1", "word": "b"}
    assert rows[2][0]["embeddings"] == []

    batch = AnnotationBatch(column)
    assert batch.num_rows == 3 and len(batch) == 3
    assert batch.row_offsets.tolist() == [0, 2, 2, 3]
    assert batch.row_of().tolist() == [0, 0, 2]
    assert batch.begin.tolist() == [0, 4, 0]
    assert batch.result == ["Dr.", "Who", "Hi"]
    assert batch.int_metadata("sentence").tolist() == [0, 1, 0]
    assert batch.metadata("missing").to_pylist() == [None, None, None]


def test_embeddings_are_written_per_annotation():
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    column = build_annotations(
        "word_embeddings", np.array([0, 3]), [0, 1, 2], [0, 1, 2], ["a", "b", "c"], {}, vectors
    )
    rows = column.to_pylist()[0]
    assert [r["embeddings"] for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert [r["metadata"] for r in rows] == [[], [], []]


def test_reader_handles_null_rows_and_slices():
    column = build_annotations(
        "token",
        np.array([0, 1, 3]),
        [0, 0, 2],
        [0, 1, 3],
        ["a", "bc", "de"],
        {"sentence": [0, 0, 1]},
    )
    with_null = pa.concat_arrays([pa.array([None], ANNOTATIONS_ARROW_TYPE), column])
    batch = AnnotationBatch(with_null)
    assert batch.row_offsets.tolist() == [0, 0, 1, 3]
    assert batch.result == ["a", "bc", "de"]
    sliced = AnnotationBatch(with_null.slice(2))
    assert sliced.num_rows == 1 and sliced.result == ["bc", "de"]
    assert sliced.int_metadata("sentence").tolist() == [0, 1]
    chunked = AnnotationBatch(pa.chunked_array([column.slice(0, 1), column.slice(1)]))
    assert chunked.result == ["a", "bc", "de"]


def test_empty_batch():
    column = build_annotations("token", np.zeros(4, dtype=np.int64), [], [], [], {"sentence": []})
    assert column.to_pylist() == [[], [], []]
    assert AnnotationBatch(column).metadata("sentence").to_pylist() == []


def test_annotation_from_row():
    column = build_annotations("chunk", np.array([0, 1]), [3], [5], ["abc"], {"entity": ["X"]})
    (row,) = column.to_pylist()[0]
    assert Annotation.from_row(row) == Annotation("chunk", 3, 5, "abc", {"entity": "X"}, [])


def test_mismatched_lengths_raise():
    with pytest.raises((ValueError, pa.ArrowInvalid)):
        build_annotations("token", np.array([0, 2]), [0, 1], [0], ["a", "b"], {})


def test_metadata_lookup_with_uneven_maps():
    """Maps of different widths or key orders take the general path and still agree."""
    struct = pa.StructArray.from_arrays(
        [
            pa.array(["t"] * 3),
            pa.array([0, 1, 2], pa.int32()),
            pa.array([0, 1, 2], pa.int32()),
            pa.array(["a", "b", "c"]),
            pa.array(
                [[("sentence", "0")], [("x", "y"), ("sentence", "4")], []],
                pa.map_(pa.string(), pa.string()),
            ),
            pa.array([[], [], []], pa.list_(pa.field("element", pa.float32(), nullable=False))),
        ],
        fields=list(ANNOTATION_ARROW_TYPE),
    )
    column = pa.ListArray.from_arrays(pa.array([0, 3], pa.int32()), struct)
    batch = AnnotationBatch(column)
    assert batch.metadata("sentence").to_pylist() == ["0", "4", None]
    assert batch.int_metadata("sentence", default=9).tolist() == [0, 4, 9]


def test_null_metadata_values_are_left_out_of_the_maps():
    import numpy as np

    from sparkner.core.annotation import AnnotationBatch, build_annotations

    column = build_annotations(
        "chunk",
        np.array([0, 2, 3]),
        [0, 5, 0],
        [3, 8, 1],
        ["pain", "fever", "CT"],
        {"entity": ["P", "P", "T"], "confidence": [None, "0.9000", None]},
    )
    rows = column.to_pylist()
    assert [dict(a["metadata"]) for row in rows for a in row] == [
        {"entity": "P"},
        {"entity": "P", "confidence": "0.9000"},
        {"entity": "T"},
    ]
    batch = AnnotationBatch(column)
    assert batch.metadata("confidence").to_pylist() == [None, "0.9000", None]
    assert batch.metadata("entity").to_pylist() == ["P", "P", "T"]


def test_reader_of_a_slice_without_nulls():
    column = build_annotations(
        "token",
        np.array([0, 1, 3, 4]),
        [0, 0, 2, 7],
        [0, 1, 3, 8],
        ["a", "bc", "de", "fg"],
        {"sentence": [0, 0, 1, 0]},
    )
    middle = AnnotationBatch(column.slice(1, 1))
    assert middle.num_rows == 1 and middle.row_offsets.tolist() == [0, 2]
    assert middle.result == ["bc", "de"] and middle.begin.tolist() == [0, 2]
    assert middle.int_metadata("sentence").tolist() == [0, 1]
    assert AnnotationBatch(column.slice(2)).result == ["fg"]
    assert AnnotationBatch(column.slice(3)).result == []
    assert AnnotationBatch(column.slice(0, 0)).row_offsets.tolist() == [0]


def _maps_column(maps: list[list[tuple[str, str]]]) -> pa.ListArray:
    count = len(maps)
    struct = pa.StructArray.from_arrays(
        [
            pa.array(["t"] * count),
            pa.array(range(count), pa.int32()),
            pa.array(range(count), pa.int32()),
            pa.array(["w"] * count),
            pa.array(maps, pa.map_(pa.string(), pa.string())),
            pa.array([[]] * count, pa.list_(pa.field("element", pa.float32(), nullable=False))),
        ],
        fields=list(ANNOTATION_ARROW_TYPE),
    )
    return pa.ListArray.from_arrays(pa.array([0, count], pa.int32()), struct)


@pytest.mark.parametrize(
    "maps",
    [
        # Same widths, keys swapped in a later map: found by name, not by position.
        [[("ab", "1"), ("cd", "2")], [("cd", "3"), ("ab", "4")]],
        # Same width and key lengths, other bytes.
        [[("ab", "1")], [("ba", "4")]],
        [[("ab", "1")], [("abc", "4")]],
    ],
)
def test_metadata_lookup_checks_every_key_not_the_first_map_only(maps):
    batch = AnnotationBatch(_maps_column(maps))
    expected = [dict(m).get("ab") for m in maps]
    assert batch.metadata("ab").to_pylist() == expected
    assert batch.metadata("ab", "x").to_pylist() == [v or "x" for v in expected]


def test_metadata_default_fills_absent_keys_only():
    batch = AnnotationBatch(_maps_column([[("sentence", "2")], [], [("other", "1")]]))
    assert batch.metadata("sentence").to_pylist() == ["2", None, None]
    assert batch.metadata("sentence", "0").to_pylist() == ["2", "0", "0"]


def test_multi_key_maps_keep_their_key_order_per_annotation():
    column = build_annotations(
        "named_entity",
        np.array([0, 3]),
        [0, 2, 4],
        [0, 2, 4],
        ["a", "b", "c"],
        {"word": ["a", "b", "é"], "sentence": [0, 0, 1], "confidence": ["0.5", None, "1.0"]},
    )
    maps = [list(a["metadata"]) for a in column.to_pylist()[0]]
    assert maps == [
        [("word", "a"), ("sentence", "0"), ("confidence", "0.5")],
        [("word", "b"), ("sentence", "0")],
        [("word", "é"), ("sentence", "1"), ("confidence", "1.0")],
    ]


def test_distinct_strings_index_nulls_one_past_the_last():
    distinct, indices = distinct_strings(pa.array(["b", None, "a", "b", ""]))
    assert distinct.to_pylist() == ["b", "a", ""]
    assert indices.tolist() == [0, 3, 1, 0, 2] and indices.dtype == np.int64
    chunked = pa.chunked_array([["x", None], ["x"]])
    assert distinct_strings(chunked)[1].tolist() == [0, 1, 0]
    assert distinct_strings(["é", "é"])[0].to_pylist() == ["é"]
    empty, none = distinct_strings([])
    assert len(empty) == 0 and none.tolist() == []
