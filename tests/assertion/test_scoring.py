"""Scoring assertions against gold: hand-computed precision, recall, F1 and accuracy."""

from __future__ import annotations

import pytest

from sparkner.assertion import score_assertions


def test_hand_computed_scores():
    gold = [
        [(0, 4, "present"), (10, 14, "absent"), (20, 24, "absent"), (30, 34, "possible")],
        [(0, 2, "present"), (5, 9, "present")],
    ]
    predicted = [
        # right, right, wrong (present), wrong (absent), one span that is not gold
        [
            (0, 4, "present"),
            (10, 14, "absent"),
            (20, 24, "present"),
            (30, 34, "absent"),
            (40, 44, "absent"),
        ],
        # right; the second gold span has no prediction (not scored)
        [(0, 2, "present")],
    ]
    scores = score_assertions(gold, predicted)
    by = scores.by_label()
    # absent: tp 1 (10-14), fp 1 (30-34 predicted absent), fn 1 (20-24)
    assert (by["absent"].tp, by["absent"].fp, by["absent"].fn) == (1, 1, 1)
    assert by["absent"].precision == pytest.approx(0.5)
    assert by["absent"].recall == pytest.approx(0.5)
    assert by["absent"].f1 == pytest.approx(0.5)
    assert by["absent"].support == 2
    # present: tp 2, fp 1 (20-24), fn 0 (5-9 has no chunk: not scored): P 2/3, R 1
    assert (by["present"].tp, by["present"].fp, by["present"].fn) == (2, 1, 0)
    assert by["present"].precision == pytest.approx(2 / 3)
    assert by["present"].f1 == pytest.approx(0.8)
    assert by["present"].support == 2
    # possible: tp 0, fn 1: all zero, no division error
    assert (by["possible"].precision, by["possible"].recall, by["possible"].f1) == (0, 0, 0)
    assert scores.correct == 3 and scores.total == 5
    assert scores.accuracy == pytest.approx(0.6)
    assert scores.unmatched_predictions == 1 and scores.unmatched_gold == 1
    assert [s.label for s in scores.labels] == ["absent", "possible", "present"]


def test_table_lists_every_label_and_the_accuracy():
    scores = score_assertions([[(0, 1, "absent")]], [[(0, 1, "absent")]])
    table = scores.table()
    assert "absent" in table and "1.0000" in table
    assert table.splitlines()[-1] == "accuracy 1.0000 (1/1 gold mentions)"


def test_empty_and_mismatched_inputs():
    empty = score_assertions([], [])
    assert empty.total == 0 and empty.accuracy == 0.0 and empty.labels == ()
    with pytest.raises(ValueError, match="documents"):
        score_assertions([[]], [])


def test_duplicate_spans_count_once():
    scores = score_assertions(
        [[(0, 1, "absent"), (0, 1, "present")]], [[(0, 1, "absent"), (0, 1, "present")]]
    )
    assert scores.total == 1 and scores.correct == 1
