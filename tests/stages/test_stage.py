"""The shared stage plumbing: column checks, UDF wrappers, input matching, params."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pyspark.ml import Pipeline
from pyspark.sql import functions as F

from sparkner import DocumentAssembler, SentenceDetector, Tokenizer
from sparkner.core.annotation import ANNOTATIONS_ARROW_TYPE, AnnotationBatch, build_annotations
from sparkner.runtime.udf import has_arrow_udf, regroup, vectorized_udf
from sparkner.stages.stage import AnnotatorInputError, roles


@pytest.fixture(scope="module")
def annotated(spark, text_pipeline_stages):
    df = spark.createDataFrame(
        [(1, "Dr. Smith saw her. BP 120/80."), (2, None), (3, "Chest pain.")], "id int, text string"
    )
    return Pipeline(stages=text_pipeline_stages).fit(df).transform(df)


def test_output_columns_carry_their_annotator_type(annotated):
    types = {f.name: f.metadata.get("annotatorType") for f in annotated.schema.fields}
    assert types == {
        "id": None,
        "text": None,
        "document": "document",
        "sentence": "document",
        "token": "token",
    }


def test_missing_input_column_is_named(spark):
    df = spark.createDataFrame([("a",)], "note string")
    with pytest.raises(AnnotatorInputError, match=r"'text' does not exist.*\['note'\]"):
        DocumentAssembler().transform(df)


def test_non_string_text_column_is_refused(spark):
    df = spark.createDataFrame([(1,)], "text int")
    with pytest.raises(AnnotatorInputError, match=r"'text' is of Spark type int, expected string"):
        DocumentAssembler().transform(df)


def test_non_annotation_input_is_refused(spark):
    df = spark.createDataFrame([("a",)], "document string")
    with pytest.raises(AnnotatorInputError, match=r"SentenceDetector.*'document'.*string"):
        SentenceDetector().transform(df)


def test_wrong_annotator_type_is_refused(annotated):
    expected = r"'token' holds 'token' annotations, expected 'document'"
    with pytest.raises(AnnotatorInputError, match=expected):
        Tokenizer().setInputCols(["token"]).setOutputCol("again").transform(annotated)


def test_wrong_number_of_input_columns(annotated):
    with pytest.raises(AnnotatorInputError, match="has 2 columns, expected 1"):
        Tokenizer().setInputCols("sentence", "document").transform(annotated)


def test_errors_never_contain_note_text(spark):
    df = spark.createDataFrame([("PATIENT-SECRET-MARKER",)], "note string")
    with pytest.raises(AnnotatorInputError) as info:
        DocumentAssembler().transform(df)
    assert "PATIENT-SECRET-MARKER" not in str(info.value)


def test_setters_are_fluent_and_accept_list_or_varargs():
    stage = Tokenizer().setInputCols(["a"]).setOutputCol("b")
    assert stage.getInputCols() == ["a"] and stage.getOutputCol() == "b"
    assert SentenceDetector().setInputCols("x").getInputCols() == ["x"]
    assert DocumentAssembler(inputCol="note").getInputCol() == "note"


def test_input_columns_are_matched_to_roles_by_annotator_type():
    class TwoInputs(Tokenizer):
        input_roles = roles(sentence="document", token="token")

    stage = TwoInputs().setInputCols(["tok", "sent"])
    found = stage.resolve_inputs({"tok": "token", "sent": "document"})
    assert list(found.items()) == [("sentence", "sent"), ("token", "tok")]
    # Without recorded types, the given order stands.
    assert list(stage.resolve_inputs({}).items()) == [("sentence", "tok"), ("token", "sent")]


@pytest.mark.parametrize("use_arrow", [True, False], ids=["arrow_udf", "pandas_udf"])
@pytest.mark.slow
def test_both_udf_wrappers_give_the_same_annotations(annotated, use_arrow):
    if use_arrow and not has_arrow_udf():
        pytest.skip("this pyspark has no arrow_udf")

    def sentence_lengths(documents: pa.Array, tokens: pa.Array) -> pa.Array:
        """Two inputs: one annotation per document with its token count. (Nested, so the
        Python workers get it by value: they cannot import this test module.)"""
        docs, toks = AnnotationBatch(documents), AnnotationBatch(tokens)
        counts = np.diff(toks.row_offsets)[docs.row_of()]
        return build_annotations(
            "count",
            docs.row_offsets,
            docs.begin,
            docs.end,
            [str(c) for c in counts],
            {"sentence": docs.int_metadata("sentence")},
        )

    # max_call_size=1: calls of one token at most (rows without tokens joined to the next
    # call), which do not line up with Spark's batches, and Spark still lines the rows up.
    one = vectorized_udf(
        lambda a: a,
        [ANNOTATIONS_ARROW_TYPE],
        use_arrow=use_arrow,
        name="Identity",
        max_call_size=1,
    )
    two = vectorized_udf(sentence_lengths, [ANNOTATIONS_ARROW_TYPE] * 2, use_arrow=use_arrow)
    out = annotated.select(
        "id", "token", one(F.col("token")).alias("copy"), two("document", "token").alias("n")
    ).orderBy("id")
    rows = out.collect()
    assert [r.copy for r in rows] == [r.token for r in rows]
    assert [[a.result for a in r.n] for r in rows] == [["8"], [], ["3"]]


def test_each_stage_runs_once_per_row(annotated):
    plan = annotated._jdf.queryExecution().executedPlan().toString()
    for stage in ("DocumentAssembler", "SentenceDetector", "Tokenizer"):
        assert plan.count(f"{stage}(") == 1, plan


def test_regroup_joins_small_batches_and_cuts_large_ones():
    texts = ["aaaa", "bb", None, "", "cccccc", "d", "ee", "fffffffffffff", "g"]
    batches = [[pa.array(texts[:2])], [pa.array(texts[2:5])], [pa.array(texts[5:])]]
    calls = [column.to_pylist() for (column,) in regroup(batches, 6)]
    # In order, every row once; each call at most 6 bytes unless one row alone is larger.
    assert [t for call in calls for t in call] == texts
    assert calls == [["aaaa", "bb", None, ""], ["cccccc"], ["d", "ee"], ["fffffffffffff"], ["g"]]
    # Annotation lists are sized by their annotations; None keeps the batches as they are.
    lists = pa.array([[1, 2], [3], [], [4, 5, 6]], pa.list_(pa.int64()))
    assert [len(c) for (c,) in regroup([[lists]], 3)] == [3, 1]
    assert [len(c) for (c,) in regroup([[lists], [lists]], None)] == [4, 4]
    assert list(regroup([[pa.array([], pa.string())]], 10)) == []


def test_regroup_keeps_the_columns_of_a_row_together():
    words = pa.array(["one", "three", "x", "seven"])
    numbers = pa.array([1, 3, 1, 5])
    calls = list(regroup([[words, numbers]], 8))
    assert [(w.to_pylist(), n.to_pylist()) for w, n in calls] == [
        (["one", "three"], [1, 3]),
        (["x", "seven"], [1, 5]),
    ]
