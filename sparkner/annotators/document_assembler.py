"""DocumentAssembler: a string column becomes one ``document`` annotation per row."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import DOCUMENT, as_array, build_annotations
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import TextInputStage


def assemble_documents(texts: pa.Array) -> pa.Array:
    """One document per row spanning the whole text, unchanged (offsets are the text's own).

    Null, empty and whitespace-only texts get no document, so every later stage sees an
    empty annotation list for them; the row itself is kept.
    """
    values = as_array(texts).to_pylist()
    keep = [i for i, text in enumerate(values) if text and not text.isspace()]
    lengths = np.zeros(len(values), dtype=np.int64)
    lengths[keep] = 1
    row_offsets = np.concatenate([[0], np.cumsum(lengths)])
    results = [values[i] for i in keep]
    return build_annotations(
        DOCUMENT,
        row_offsets,
        begin=np.zeros(len(keep), dtype=np.int64),
        end=np.array([len(t) - 1 for t in results], dtype=np.int64),
        result=results,
        metadata={"sentence": np.zeros(len(keep), dtype=np.int64)},
    )


class DocumentAssembler(TextInputStage):
    """Turns a text column (default ``text``) into a ``document`` column (default ``document``)."""

    output_annotator_type = DOCUMENT
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCol": "text", "outputCol": "document"}

    def batch_function(self) -> BatchFunction:
        return assemble_documents
