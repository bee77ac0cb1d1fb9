"""AssertionModel: is each chunk present, absent, possible, hypothetical, conditional, or
someone else's? (Spark NLP users know the stage as ``AssertionDLModel``.)

Inputs: sentences, tokens and the chunk column; output: one ``assertion`` annotation per chunk
with the chunk's span, the label as ``result`` and metadata ``chunk``, ``sentence``,
``confidence``. The decision is the ConText algorithm (:mod:`sparkner.assertion.context`) over
the bundled trigger rules ``assertion_clinical``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import SparkSession

from sparkner.assertion.context import LABELS, RULES_FILE, ContextRules, assert_chunks, load_rules
from sparkner.core.annotation import ASSERTION, CHUNK, DOCUMENT, TOKEN
from sparkner.core.params import declare
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.cache import ModelFiles
from sparkner.stages.model import FolderCheck, FolderModel, files_digest
from sparkner.stages.stage import roles


def _scope_window(values: Sequence[int]) -> str | None:
    if len(values) not in (0, 2) or any(v < 1 for v in values):
        return "must be empty (the rules' own) or two counts of at least 1: [before, after]"
    return None


def load_rules_within(folder: str, window: tuple[int, ...]) -> ContextRules:
    """The rules of a folder, their scopes set to ``window`` (empty: the rules' own)."""
    rules = load_rules(folder)
    if window:
        rules = rules.with_settings(max_scope_backward=window[0], max_scope=window[1])
    return rules


def assert_with_rules(
    sentences: pa.Array, tokens: pa.Array, chunks: pa.Array, rules: ModelFiles[ContextRules]
) -> pa.Array:
    """:func:`~sparkner.assertion.context.assert_chunks` with the rules of a folder."""
    return assert_chunks(sentences, tokens, chunks, rules.load())


class AssertionModel(FolderModel):
    """Assertion status of every chunk (inputs: sentences, tokens, chunks)."""

    input_roles = roles(sentence=DOCUMENT, token=TOKEN, chunk=CHUNK)
    output_annotator_type = ASSERTION
    bundled_marker = RULES_FILE
    default_pretrained = "assertion_clinical"
    files_kind = "assertion rules"
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["sentence", "token", "ner_chunk"],
        "outputCol": "assertion",
    }

    scopeWindow = declare(
        "scopeWindow",
        "how many words before and after a trigger its scope reaches, [before, after] "
        "(empty: the rules' own)",
        TypeConverters.toListInt,
        _scope_window,
        default=[],
    )

    def check_files(self, folder: str) -> FolderCheck:
        """The rules are read now: a damaged file is refused here, not in a task."""
        load_rules(folder)
        return FolderCheck(files_digest(folder, RULES_FILE))

    def output_labels(
        self, input_labels: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        return LABELS

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        window = tuple(self.getScopeWindow())
        load = partial(load_rules_within, window=window)
        return partial(assert_with_rules, rules=self.model_files(files, load, window))
