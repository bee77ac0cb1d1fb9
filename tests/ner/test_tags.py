"""Tags to entity spans, for every scheme and for broken sequences."""

from __future__ import annotations

import pytest

from sparkner.ner.tags import entity_types, split_tag, tag_spans


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-X", "I-X", "O", "B-Y"], [(0, 1, "X"), (3, 3, "Y")]),  # IOB2
        (["I-X", "I-X", "O", "I-Y", "B-Y"], [(0, 1, "X"), (3, 3, "Y"), (4, 4, "Y")]),  # IOB1
        (["B-X", "E-X", "S-Y", "B-X", "I-X", "L-X"], [(0, 1, "X"), (2, 2, "Y"), (3, 5, "X")]),
        (["U-X", "U-X"], [(0, 0, "X"), (1, 1, "X")]),  # BILOU singles stay apart
        (["O", "I-X", "I-Y", "I-Y"], [(1, 1, "X"), (2, 3, "Y")]),  # I- without B-
        (["B-X", "I-Y"], [(0, 0, "X"), (1, 1, "Y")]),  # type change inside
        (["PROBLEM", "PROBLEM", "O", "TEST"], [(0, 1, "PROBLEM"), (3, 3, "TEST")]),  # no scheme
        (["E-X", "O"], [(0, 0, "X")]),  # an end with nothing open
        (["", None, "O"], []),
        ([], []),
    ],
    ids=[
        "iob2",
        "iob1",
        "bioes",
        "bilou",
        "i_without_b",
        "type_change",
        "no_scheme",
        "dangling_end",
        "outside_only",
        "empty",
    ],
)
def test_tag_spans(tags, spans):
    assert tag_spans(tags) == spans


def test_split_tag_and_types():
    assert split_tag("B-Chemical") == ("begin", "Chemical")
    assert split_tag("I-") == ("inside", "I-")
    assert split_tag("B-I-X") == ("begin", "I-X")
    assert entity_types(["O", "B-Disease", "I-Chemical", "TEST"]) == ["Chemical", "Disease", "TEST"]
