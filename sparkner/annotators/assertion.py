"""AssertionModel: is each chunk present, absent, possible, hypothetical, conditional, or
someone else's? (Spark NLP users know the stage as ``AssertionDLModel``.)

Inputs: sentences, tokens and the chunk column; output: one ``assertion`` annotation per chunk
with the chunk's span, the label as ``result`` and metadata ``chunk``, ``sentence``,
``confidence``. The decision is the ConText algorithm (:mod:`sparkner.assertion.context`) over
the bundled trigger rules ``assertion_clinical``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import SparkSession

from sparkner.assertion.context import LABELS, RULES_FILE, ContextRules, assert_chunks, load_rules
from sparkner.core.annotation import ASSERTION, CHUNK, DOCUMENT, TOKEN
from sparkner.core.params import declare
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.model import FolderModel


def _scope_window(values: Sequence[int]) -> str | None:
    if len(values) not in (0, 2) or any(v < 1 for v in values):
        return "must be empty (the rules' own) or two counts of at least 1: [before, after]"
    return None


@lru_cache(maxsize=8)
def _rules(folder: str, fingerprint: str, window: tuple[int, ...]) -> ContextRules:
    """The rules of a folder, read once per process and window (``fingerprint`` keys the
    cache to the content)."""
    rules = load_rules(folder)
    if window:
        rules = rules.with_settings(max_scope_backward=window[0], max_scope=window[1])
    return rules


def assert_with_rules(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    rules_folder: FolderLocation,
    fingerprint: str,
    window: tuple[int, ...],
) -> pa.Array:
    """:func:`~sparkner.assertion.context.assert_chunks` with the rules of a folder."""
    rules = _rules(rules_folder.resolve(), fingerprint, window)
    return assert_chunks(sentences, tokens, chunks, rules)


class AssertionModel(FolderModel):
    """Assertion status of every chunk (inputs: sentences, tokens, chunks)."""

    input_annotator_types = (DOCUMENT, TOKEN, CHUNK)
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

    def check_files(self, folder: str) -> str:
        """The rules are read now: a damaged file is refused here, not in a task."""
        load_rules(folder)
        return hashlib.sha256((Path(folder) / RULES_FILE).read_bytes()).hexdigest()[:16]

    def output_labels(
        self, input_labels: Sequence[tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        return LABELS

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        window = tuple(self.getScopeWindow())
        return partial(
            assert_with_rules, rules_folder=files, fingerprint=self.fingerprint, window=window
        )
