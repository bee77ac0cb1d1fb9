"""DocumentAssembler without Spark: ``assemble_documents`` and the LightPipeline."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_support import assert_offsets_valid

from sparkner.annotators.document_assembler import DocumentAssembler, assemble_documents
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.annotation import AnnotationBatch

# Texts that are hard for offsets: astral-plane emoji, CJK, combining marks, right-to-left
# text, NUL and other control characters, CRLF, Unicode line and paragraph separators.
ODD_TEXTS = [
    "Pain 😀😀 in 胸部 and ألم شديد. e\u0301 combining.",
    "NUL\x00 here\x01\x7f and \x1b[31m escape",
    "line one\r\nline two\rline three\n",
    "para\u2028next\u2029after\x85 NEL\x0c form feed",
    "\u200f\u202eRTL override\u202c and ZWJ 👨\u200d👩\u200d👧",
    "\ufeffBOM first, then \ufffd replacement",
    "  leading and trailing whitespace  \n",
]


def documents_of(
    texts: list[str | None] | pa.Array | pa.ChunkedArray,
) -> list[list[tuple[int, int, str, dict]]]:
    """Per row, the documents as ``(begin, end, result, metadata)``."""
    if isinstance(texts, list):
        texts = pa.array(texts, pa.string())
    column = AnnotationBatch(assemble_documents(texts))
    rows = column.annotations.to_pylist()
    return [
        [(a["begin"], a["end"], a["result"], dict(a["metadata"])) for a in rows[lo:hi]]
        for lo, hi in zip(column.row_offsets[:-1], column.row_offsets[1:], strict=True)
    ]


def test_one_document_spans_the_whole_text_unchanged():
    text = "  Chest pain.\n\nNo fever.  "
    assert documents_of([text]) == [[(0, len(text) - 1, text, {"sentence": "0"})]]


def test_blank_rows_get_no_document_but_are_kept():
    texts = ["a", None, "", "   ", "\n\t\r\u2028\u3000", "b c"]
    docs = documents_of(texts)
    assert len(docs) == len(texts)
    assert [len(d) for d in docs] == [1, 0, 0, 0, 0, 1]
    assert docs[5] == [(0, 2, "b c", {"sentence": "0"})]


def test_chunked_and_sliced_input_is_read_like_a_plain_array():
    chunked = pa.chunked_array([["one", None], ["two words"]], pa.string())
    sliced = pa.array(["skip", "one", None, "two words"], pa.string()).slice(1)
    expected = [[(0, 2, "one", {"sentence": "0"})], [], [(0, 8, "two words", {"sentence": "0"})]]
    assert documents_of(chunked) == expected
    assert documents_of(sliced) == expected


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_unicode_keeps_offsets_in_code_points(text):
    (doc,) = documents_of([text])
    assert doc[0][:3] == (0, len(text) - 1, text)


def test_light_pipeline_keeps_one_row_per_input_even_when_blank():
    light = LightPipeline([DocumentAssembler()])
    texts = [None, "", "  ", "Chest pain.", "\r\n"]
    rows = light.annotate(texts)
    assert rows == [
        {"document": []},
        {"document": []},
        {"document": []},
        {"document": ["Chest pain."]},
        {"document": []},
    ]
    full = light.fullAnnotate(texts)
    assert [len(r["document"]) for r in full] == [0, 0, 0, 1, 0]
    assert full[3]["document"][0].annotatorType == "document"


def test_custom_input_and_output_columns():
    light = LightPipeline([DocumentAssembler(inputCol="note", outputCol="doc")])
    assert light.input_col == "note"
    assert light.annotate("x y") == {"doc": ["x y"]}
    assert light.output_columns() == ["doc"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=8))
def test_any_batch_gives_whole_text_documents(texts):
    docs = documents_of(texts)
    assert len(docs) == len(texts)
    for text, doc in zip(texts, docs, strict=True):
        if text is None or not text.strip():
            assert doc == []
        else:
            assert doc == [(0, len(text) - 1, text, {"sentence": "0"})]
            assert_offsets_valid(text, [{"begin": d[0], "end": d[1], "result": d[2]} for d in doc])


def test_cleanup_mode_offsets_index_the_cleaned_text():
    """As in Spark NLP: begin and end index the document's own (cleaned) text."""
    text = "  Chest pain.\n\n\tNo fever.  "
    (doc,) = documents_of_mode([text], "shrink")[0]
    assert doc == (0, 20, "Chest pain. No fever.", {"sentence": "0"})
    light = LightPipeline([DocumentAssembler().setCleanupMode("SHRINK")])
    (row,) = light.fullAnnotate(text)
    assert [(a.begin, a.end, a.result) for a in row["document"]] == [doc[:3]]
    assert documents_of_mode(["\\n\\t"], "delete_full") == [[]]  # nothing left: no document
    with pytest.raises(ValueError, match="cleanupMode must be one of"):
        DocumentAssembler().setCleanupMode("squash")


def documents_of_mode(texts: list[str | None], mode: str) -> list[list[tuple]]:
    column = AnnotationBatch(assemble_documents(pa.array(texts, pa.string()), cleanup_mode=mode))
    rows = column.annotations.to_pylist()
    return [
        [(a["begin"], a["end"], a["result"], dict(a["metadata"])) for a in rows[lo:hi]]
        for lo, hi in zip(column.row_offsets[:-1], column.row_offsets[1:], strict=True)
    ]


@pytest.mark.slow  # a Spark job
def test_id_and_metadata_columns_join_the_metadata(spark):
    frame = spark.createDataFrame(
        [
            (7, "Chest pain.", {"source": "er", "sentence": "9"}),
            (8, "Fever.", None),
            (9, None, None),
        ],
        "note_id int, text string, meta map<string,string>",
    )
    assembler = DocumentAssembler().setIdCol("note_id").setMetadataCol("meta")
    rows = assembler.transform(frame).orderBy("note_id").collect()
    assert [dict(r.document[0].metadata) for r in rows[:2]] == [
        {"source": "er", "id": "7", "sentence": "0"},
        {"id": "8", "sentence": "0"},
    ]
    assert rows[2].document == []
    assert assembler.transformSchema(frame.schema)["document"].metadata["annotatorType"] == (
        "document"
    )
    with pytest.raises(ValueError, match=r"metadataCol.*'text'.*map<string,string>"):
        DocumentAssembler().setMetadataCol("text").transformSchema(frame.schema)
    with pytest.raises(ValueError, match=r"idCol.*'nope' does not exist"):
        DocumentAssembler().setIdCol("nope").transformSchema(frame.schema)


def test_a_pipeline_with_an_id_column_is_not_fused(spark):
    from pyspark.ml import PipelineModel

    from sparkner.runtime.fused import can_fuse

    assert not can_fuse(PipelineModel([DocumentAssembler().setIdCol("id")]))
    assert can_fuse(PipelineModel([DocumentAssembler()])) == can_fuse(
        PipelineModel([DocumentAssembler().setCleanupMode("shrink")])
    )
