"""The section that holds a position: the lookup behind every chunk's ``section``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkner.core.annotation import SECTION, build_annotations
from sparkner.sections.lookup import section_names_at


def sections(rows: list[list[tuple[int, int, str]]]) -> pa.Array:
    """A ``section`` column: per row, (begin, end inclusive, name) triples in the given order."""
    flat = [s for row in rows for s in row]
    offsets = np.concatenate([[0], np.cumsum([len(row) for row in rows])])
    return build_annotations(
        SECTION,
        offsets,
        [s[0] for s in flat],
        [s[1] for s in flat],
        [s[2] for s in flat],
        {},
    )


def lookup(column: pa.Array, pairs: list[tuple[int, int]]) -> list[str | None]:
    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    positions = np.array([p for _, p in pairs], dtype=np.int64)
    return section_names_at(column, rows, positions)


def test_positions_in_before_between_and_after_sections():
    column = sections([[(10, 20, "hpi"), (21, 40, "plan")], [], [(0, 5, "meds")]])
    pairs = [(0, 0), (0, 9), (0, 10), (0, 20), (0, 21), (0, 40), (0, 41), (1, 3), (2, 5), (2, 6)]
    assert lookup(column, pairs) == [
        None,
        None,
        "hpi",
        "hpi",
        "plan",
        "plan",
        None,
        None,
        "meds",
        None,
    ]


def test_gaps_null_rows_and_nothing_to_look_up():
    # SectionDetector trims the spaces before the next header: a gap holds no section.
    column = sections([[(0, 9, "hpi"), (12, 30, "plan")]])
    assert lookup(column, [(0, 10), (0, 11), (0, 12)]) == [None, None, "plan"]
    null = pa.array([None, None], column.type)
    assert lookup(null, [(0, 0), (1, 4)]) == [None, None]
    assert lookup(column, []) == []


def test_unsorted_and_nested_sections_take_the_last_start_that_holds():
    column = sections([[(30, 50, "b"), (0, 100, "outer"), (10, 20, "a")]])
    assert lookup(column, [(0, 5), (0, 15), (0, 25), (0, 35), (0, 60)]) == [
        "outer",
        "a",
        "outer",
        "b",
        "outer",
    ]


SPANS = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 20), st.sampled_from("abcd")), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(st.lists(SPANS, min_size=1, max_size=4), st.data())
def test_same_as_a_scan_of_every_section(rows, data):
    spans = [[(b, b + length, name) for b, length, name in row] for row in rows]
    column = sections(spans)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, len(rows) - 1), st.integers(0, 90)), max_size=20)
    )
    expected = []
    for row, position in pairs:
        holding = [s for s in spans[row] if s[0] <= position <= s[1]]
        # The last start wins; of sections starting together, the one given last.
        holding.sort(key=lambda s: s[0])
        expected.append(holding[-1][2] if holding else None)
    assert lookup(column, pairs) == expected
