"""NER metrics against hand-computed cases."""

from __future__ import annotations

import pytest

from sparkner.evaluation import evaluate_dataframe, evaluate_spans, evaluate_tags


def test_strict_relaxed_and_token_by_hand():
    gold = [["B-D", "I-D", "O", "B-C", "O"], ["B-D", "O"]]
    pred = [["B-D", "O", "O", "B-C", "B-C"], ["O", "B-C"]]
    result = evaluate_tags(gold, pred)
    # Strict: gold D(0-1) C(3) D(0); predicted D(0) C(3) C(4) C(1).
    # D: tp 0, fp 1, fn 2.  C: tp 1 (3-3), fp 2, fn 0.
    assert result.strict.by_type["D"].as_dict() | {} == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "tp": 0,
        "fp": 1,
        "fn": 2,
    }
    assert (result.strict.by_type["C"].tp, result.strict.by_type["C"].fp) == (1, 2)
    micro = result.strict.micro
    assert (micro.tp, micro.fp, micro.fn) == (1, 3, 2)
    assert micro.precision == pytest.approx(0.25) and micro.recall == pytest.approx(1 / 3)
    # Relaxed: predicted D(0) overlaps gold D(0-1): D tp 1, fn 1 (second sentence's D).
    assert (result.relaxed.by_type["D"].tp, result.relaxed.by_type["D"].fn) == (1, 1)
    assert result.relaxed.by_type["D"].fp == 0
    # Token level: B-D right once of twice, I-D missed, B-C right once, B-C wrong twice.
    token = result.token.by_type
    assert (token["B-D"].tp, token["B-D"].fn) == (1, 1)
    assert (token["I-D"].tp, token["I-D"].fn) == (0, 1)
    assert (token["B-C"].tp, token["B-C"].fp) == (1, 2)
    # C: P 1/3, R 1, F1 0.5; D: F1 0.
    assert result.strict.macro_f1 == pytest.approx((0 + 0.5) / 2)


def test_perfect_and_empty():
    perfect = evaluate_tags([["B-X", "I-X"]], [["B-X", "I-X"]])
    assert perfect.strict.micro.f1 == 1.0 and perfect.relaxed.micro.f1 == 1.0
    empty = evaluate_tags([["O"]], [["O"]])
    assert empty.strict.micro.f1 == 0.0 and empty.strict.by_type == {}


def test_spans_in_character_offsets():
    strict, relaxed = evaluate_spans([[(0, 9, "P")]], [[(3, 12, "P")]])
    assert strict.micro.f1 == 0.0 and relaxed.micro.f1 == 1.0


def test_length_mismatch_names_the_sentence():
    with pytest.raises(ValueError, match="sentence 1: 2 gold tags but 1 predicted"):
        evaluate_tags([["O"], ["O", "O"]], [["O"], ["O"]])


def test_table_lists_types_and_averages():
    table = evaluate_tags([["B-X", "O"]], [["B-X", "O"]]).table()
    assert "X" in table and "micro" in table and "macro F1" in table


def test_from_a_dataframe(spark):
    schema = "label array<struct<result:string>>, ner array<struct<result:string>>"
    frame = spark.createDataFrame(
        [([("B-X",), ("I-X",)], [("B-X",), ("I-X",)]), ([("O",)], [("B-X",)]), (None, None)],
        schema,
    )
    result = evaluate_dataframe(frame)
    assert (result.strict.micro.tp, result.strict.micro.fp) == (1, 1)
