"""Which section a position of a note lies in: the lookup behind every chunk's ``section``.

Pure numpy over the ``section`` annotations of a batch (:func:`.headers.detect_sections`, or
any stage that writes that annotator type); no Spark, no stages.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import AnnotationBatch


def section_names_at(
    sections: pa.Array, rows: np.ndarray, positions: np.ndarray
) -> list[str | None]:
    """For each ``(row, position)``, the name (``result``) of the section of that row whose span
    ``[begin, end]`` (inclusive) holds the position; where several do (sections that overlap,
    which SectionDetector never writes), the one that starts last (of those starting together,
    the one given last). None where no section holds it: text before the first header, a
    gap between sections, a null or empty row of sections."""
    batch = AnnotationBatch(sections)
    found = containing_section(batch, rows, positions)
    if not (found >= 0).any():
        return [None] * len(found)
    names = batch.result
    return [names[i] if i >= 0 else None for i in found.tolist()]


def containing_section(
    sections: AnnotationBatch, rows: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    """:func:`section_names_at` as indices into ``sections``' flat annotations (-1: none)."""
    rows = np.asarray(rows, dtype=np.int64)
    positions = np.asarray(positions, dtype=np.int64)
    found = np.full(len(positions), -1, dtype=np.int64)
    if not len(sections) or not len(positions):
        return found
    # Sections by row, then begin (SectionDetector writes them so; other writers may not).
    section_rows = sections.row_of()
    order = np.lexsort((sections.begin, section_rows))
    by_row, begins, ends = section_rows[order], sections.begin[order], sections.end[order]
    # The furthest end of the sections so far in each row (rows in the high bits keep the
    # running maximum from crossing into the next row): a backward search stops below it.
    reach = np.maximum.accumulate((by_row << 32) + ends) - (by_row << 32)
    first = np.searchsorted(by_row, rows, side="left")
    # The last section of the row that starts at or before the position holds it, unless the
    # position lies past its end: in a gap, or (sections that overlap) in an earlier one.
    candidate = _last_at_or_before(by_row, begins, rows, positions)
    valid = candidate >= first
    k = np.where(valid, candidate, 0)
    hit = valid & (ends[k] >= positions)
    found[hit] = order[k[hit]]
    for i in np.flatnonzero(valid & ~hit & (reach[k] >= positions)).tolist():
        j, position = int(k[i]) - 1, int(positions[i])
        while j >= first[i] and reach[j] >= position:
            if ends[j] >= position:
                found[i] = order[j]
                break
            j -= 1
    return found


def _last_at_or_before(
    by_row: np.ndarray, begins: np.ndarray, rows: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    """For each (row, position), the index of the last ``(by_row, begins)`` pair (sorted by
    row, then begin) at or before it; below the row's first index where there is none."""
    # Positions and begins fit in 32 bits (Arrow's annotation offsets are int32), so one
    # 64-bit number per pair sorts as the pair does.
    packed = (by_row << 32) + begins
    return np.searchsorted(packed, (rows << 32) + positions, side="right") - 1
