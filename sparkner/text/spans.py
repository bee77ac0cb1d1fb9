"""Chunk texts cut from the annotations that hold them, so that offsets stay true."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sparkner.core.annotation import AnnotationBatch


class CoveringTexts:
    """The text of any span of a row, cut from a document (or sentence) annotation of that
    row which contains it: ``text[begin:end + 1]`` as the row's original text has it."""

    def __init__(self, documents: AnnotationBatch) -> None:
        self.documents = documents
        self._rows = documents.row_of()
        self._texts = documents.result

    def cut(self, row: int, begin: int, end: int) -> str | None:
        """The text of ``[begin, end]`` (inclusive) in ``row``; None if no annotation holds it."""
        offsets = self.documents.row_offsets
        for d in range(int(offsets[row]), int(offsets[row + 1])):
            b, e = int(self.documents.begin[d]), int(self.documents.end[d])
            if b <= begin and end <= e:
                lo = begin - b
                return self._texts[d][lo : lo + end - begin + 1]
        return None


def row_offsets_of(rows: Sequence[int] | np.ndarray, num_rows: int) -> np.ndarray:
    """List offsets (length ``num_rows + 1``) for annotations given by their (sorted) rows."""
    counts = np.bincount(np.asarray(rows, dtype=np.int64), minlength=num_rows)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
