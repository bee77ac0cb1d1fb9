"""Spark NLP for Healthcare's names for sparkner's stages, so that ported code runs as written.

- ``MedicalNerModel`` / ``MedicalNerApproach``: :class:`NerDLModel` / :class:`NerDLApproach`
  (``MedicalNerModel.pretrained("ner_clinical", "en", "clinical/models")``).
- ``NerConverterInternal``: :class:`NerConverter`.
- ``AssertionDLModel``: :class:`AssertionModel` with Spark NLP's inputs, ``sentence, chunk,
  embeddings`` (``setInputCols(["sentence", "ner_chunk", "embeddings"])``). sparkner's rules
  and classifier read no vectors: they read the tokens that the word embeddings annotate
  (one ``word_embeddings`` annotation per token, with its span, text and sentence), so the
  labels are those of ``AssertionModel`` on (sentence, token, chunk). On Spark, where the
  embeddings column was made from a token column in the same plan, that token column is sent
  instead of the vectors.

Each is a subclass, so a saved pipeline records and loads it under its own name.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from sparkner.annotators.assertion import AssertionModel
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.word_embeddings import VectorLookup
from sparkner.core.annotation import CHUNK, DOCUMENT, WORD_EMBEDDINGS
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import InputColumns, roles


class MedicalNerModel(NerDLModel):
    """Spark NLP for Healthcare's name for :class:`NerDLModel`."""


class MedicalNerApproach(NerDLApproach):
    """Spark NLP for Healthcare's name for :class:`NerDLApproach`; it fits a
    :class:`MedicalNerModel`."""

    model_class = MedicalNerModel


class NerConverterInternal(NerConverter):
    """Spark NLP for Healthcare's name for :class:`NerConverter`."""


def _with_tokens_of_embeddings(
    function: BatchFunction, given: Sequence[str], wanted: Sequence[str], *arrays: pa.Array | None
) -> pa.Array:
    """``function`` (taking the roles ``wanted``) called with the arrays of the roles
    ``given``, the ``embeddings`` array standing in for the ``token`` role."""
    by_role: dict[str, Any] = dict(zip(given, arrays, strict=False))
    by_role["token"] = by_role.get("embeddings")
    return function(*(by_role.get(role) for role in wanted))


class AssertionDLModel(AssertionModel):
    """Spark NLP for Healthcare's ``AssertionDLModel``: :class:`AssertionModel` with the
    inputs (sentence, chunk, word embeddings), and optionally sections; the embeddings'
    tokens are what it reads."""

    input_roles = roles(sentence=DOCUMENT, chunk=CHUNK, embeddings=WORD_EMBEDDINGS)
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["sentence", "ner_chunk", "embeddings"],
        "outputCol": "assertion",
    }

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        given = [role for role, _ in self.input_roles + self.optional_roles]
        wanted = [role for role, _ in AssertionModel.input_roles + AssertionModel.optional_roles]
        inner = super().folder_function(files, spark)
        return partial(_with_tokens_of_embeddings, inner, given, wanted)

    def annotate(self, dataset: DataFrame, inputs: InputColumns, schema: StructType) -> DataFrame:
        lookup = VectorLookup.of_column(schema[inputs["embeddings"]])
        if lookup is None or schema.fieldNames().count(lookup.token_column) != 1:
            return super().annotate(dataset, inputs, schema)
        # The vectors were looked up here for a token column: send those tokens (the same
        # spans, texts and sentences) rather than 200 floats a token.
        columns = [lookup.token_column if role == "embeddings" else c for role, c in inputs.items()]
        function = self.spark_batch_function(dataset.sparkSession)
        return self.annotate_with(dataset, columns, function, inputs)
