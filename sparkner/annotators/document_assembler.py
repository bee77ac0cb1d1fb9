"""DocumentAssembler: a string column becomes one ``document`` annotation per row.

As in Spark NLP, ``setCleanupMode`` may rewrite the text first (:mod:`sparkner.text.cleanup`);
``begin`` and ``end`` then index the cleaned text, which is the document's ``result``
(``result[begin:end + 1]``), not the row's original text. With the default ``disabled`` the
two are the same. ``setIdCol`` puts a column's value in each document's metadata as ``id``;
``setMetadataCol`` (a ``map<string,string>`` column) adds its entries (``sentence`` and ``id``
win over entries of those names, as in Spark NLP). Both are read on Spark; the LightPipeline,
which has texts only, makes documents without them, as Spark NLP's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StringType, StructType

from sparkner.core.annotation import DOCUMENT, as_array, build_annotations
from sparkner.core.params import declare, non_empty, one_of
from sparkner.runtime.udf import BatchFunction, vectorized_udf
from sparkner.stages.stage import InputColumns, TextInputStage, input_field, wrong_type
from sparkner.text.cleanup import CLEANUP_MODES, clean_text

METADATA_ARROW_TYPE = pa.map_(pa.string(), pa.string())


def assemble_documents(
    texts: pa.Array,
    ids: pa.Array | None = None,
    metadata: pa.Array | None = None,
    *,
    cleanup_mode: str = "disabled",
) -> pa.Array:
    """One document per row spanning the whole (cleaned) text.

    Null, empty and whitespace-only texts (after cleanup) get no document, so every later
    stage sees an empty annotation list for them; the row itself is kept. ``ids`` (strings)
    and ``metadata`` (string maps), one per row where given, join each document's metadata.
    """
    values = as_array(texts).to_pylist()
    if cleanup_mode != "disabled":
        values = [None if t is None else clean_text(t, cleanup_mode) for t in values]
    keep = [i for i, text in enumerate(values) if text and not text.isspace()]
    lengths = np.zeros(len(values), dtype=np.int64)
    lengths[keep] = 1
    row_offsets = np.concatenate([[0], np.cumsum(lengths)])
    results = [values[i] for i in keep]
    columns: dict[str, Any] = {}
    if metadata is not None:
        columns.update(_metadata_columns(as_array(metadata).to_pylist(), keep))
    if ids is not None:
        id_values = as_array(ids).to_pylist()
        columns["id"] = pa.array([id_values[i] for i in keep], pa.string())
    columns["sentence"] = np.zeros(len(keep), dtype=np.int64)
    return build_annotations(
        DOCUMENT,
        row_offsets,
        begin=np.zeros(len(keep), dtype=np.int64),
        end=np.array([len(t) - 1 for t in results], dtype=np.int64),
        result=results,
        metadata=columns,
    )


def _metadata_columns(maps: Sequence[Any], keep: Sequence[int]) -> dict[str, pa.Array]:
    """The kept rows' metadata maps as one column per key (null where a row lacks it)."""
    rows = [dict(maps[i] or ()) for i in keep]
    keys = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in ("id", "sentence")]
    return {k: pa.array([row.get(k) for row in rows], pa.string()) for k in keys}


class DocumentAssembler(TextInputStage):
    """Turns a text column (default ``text``) into a ``document`` column (default ``document``)."""

    output_annotator_type = DOCUMENT
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCol": "text", "outputCol": "document"}

    cleanupMode = declare(
        "cleanupMode",
        "how the text is cleaned first: " + ", ".join(CLEANUP_MODES) + " (offsets then index "
        "the cleaned text, the document's result)",
        lambda v: TypeConverters.toString(v).strip().lower(),
        one_of(CLEANUP_MODES),
        default="disabled",
    )
    idCol = declare(
        "idCol",
        "a column whose value (as a string) each document's metadata holds as 'id'",
        TypeConverters.toString,
        non_empty,
    )
    metadataCol = declare(
        "metadataCol",
        "a map<string,string> column whose entries each document's metadata holds",
        TypeConverters.toString,
        non_empty,
    )

    def batch_function(self) -> BatchFunction:
        return partial(assemble_documents, cleanup_mode=self.getOrDefault(self.cleanupMode))

    def checked_inputs(self, schema: StructType) -> InputColumns:
        inputs = super().checked_inputs(schema)
        if self.isDefined(self.idCol):
            input_field(self._describe() + " idCol", schema, self.getIdCol())
        if self.isDefined(self.metadataCol):
            field = input_field(self._describe() + " metadataCol", schema, self.getMetadataCol())
            wanted = MapType(StringType(), StringType())
            if not (
                isinstance(field.dataType, MapType)
                and field.dataType.keyType == wanted.keyType
                and field.dataType.valueType == wanted.valueType
            ):
                raise wrong_type(self._describe() + " metadataCol", field, "map<string,string>")
        return inputs

    def side_columns(self) -> list[str]:
        return [self.getOrDefault(p) for p in (self.idCol, self.metadataCol) if self.isDefined(p)]

    def annotate(self, dataset: DataFrame, inputs: InputColumns, schema: StructType) -> DataFrame:
        if not self.side_columns():
            return super().annotate(dataset, inputs, schema)
        # The id and metadata columns travel beside the text (null where not set).
        ids = (
            dataset[self.getIdCol()].cast("string")
            if self.isDefined(self.idCol)
            else F.lit(None).cast("string")
        )
        maps = (
            dataset[self.getMetadataCol()]
            if self.isDefined(self.metadataCol)
            else F.lit(None).cast("map<string,string>")
        )
        udf = vectorized_udf(
            self.batch_function(),
            [pa.string(), pa.string(), METADATA_ARROW_TYPE],
            name=type(self).__name__,
        )
        field = self.output_field(inputs)
        annotated = udf(dataset[inputs["text"]], ids, maps).alias(
            field.name, metadata=field.metadata
        )
        return dataset.withColumn(field.name, annotated)
