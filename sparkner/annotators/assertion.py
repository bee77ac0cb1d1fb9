"""AssertionModel: is each chunk present, absent, possible, hypothetical, conditional, or
someone else's? (Spark NLP users know the stage as ``AssertionDLModel``.)

Inputs: sentences, tokens and the chunk column, and optionally a ``section`` column
(SectionDetector's); output: one ``assertion`` annotation per chunk with the chunk's span, the
label as ``result`` and metadata ``chunk``, ``sentence``, ``confidence``, ``trigger``.

Where the model folder holds a learned classifier (``assertion_classifier.json``, as the
bundled ``assertion_clinical`` does), it decides (:mod:`sparkner.assertion.classifier`): a
logistic regression over the ConText rules' verdict and triggers, the chunk's section, its
entity type and the words around it; ``confidence`` is its probability. The section comes from
the ``section`` column if given, else from the chunks' ``section`` metadata (NerConverter's,
given a section column), else from the headers found in the sentences. A folder with rules
only (``context_rules.json``: a user's own rules) is decided by the ConText algorithm
(:mod:`sparkner.assertion.context`), and so is any folder with ``useClassifier`` off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import SparkSession

from sparkner.assertion.classifier import (
    CLASSIFIER_FILE,
    WEIGHTS_FILE,
    ClassifierModel,
    classify_chunks,
    has_classifier,
    load_classifier,
)
from sparkner.assertion.context import LABELS, RULES_FILE, ContextRules, assert_chunks, load_rules
from sparkner.core.annotation import ASSERTION, CHUNK, DOCUMENT, SECTION, TOKEN
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


def load_classifier_within(folder: str, window: tuple[int, ...]) -> ClassifierModel:
    """The classifier of a folder with its rules (their scopes set to ``window``)."""
    return ClassifierModel(load_rules_within(folder, window), load_classifier(folder))


def assert_with_rules(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    sections: pa.Array | None = None,
    *,
    rules: ModelFiles[ContextRules],
) -> pa.Array:
    """:func:`~sparkner.assertion.context.assert_chunks` with the rules of a folder (the
    rules read no sections)."""
    return assert_chunks(sentences, tokens, chunks, rules.load())


def assert_with_classifier(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    sections: pa.Array | None = None,
    *,
    model: ModelFiles[ClassifierModel],
) -> pa.Array:
    """:func:`~sparkner.assertion.classifier.classify_chunks` with the classifier of a
    folder."""
    return classify_chunks(sentences, tokens, chunks, sections, model.load())


class AssertionModel(FolderModel):
    """Assertion status of every chunk (inputs: sentences, tokens, chunks, and optionally
    sections)."""

    input_roles = roles(sentence=DOCUMENT, token=TOKEN, chunk=CHUNK)
    optional_roles = roles(section=SECTION)
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
        "(empty: the rules' own); with a classifier, the scope of the rules' verdict it reads",
        TypeConverters.toListInt,
        _scope_window,
        default=[],
    )
    useClassifier = declare(
        "useClassifier",
        "whether the folder's learned classifier decides where the folder has one (else, or "
        "if false, the ConText rules alone)",
        TypeConverters.toBoolean,
        default=True,
    )

    def check_files(self, folder: str) -> FolderCheck:
        """The rules (and the classifier, where there is one) are read now: a damaged file is
        refused here, not in a task."""
        load_rules(folder)
        if has_classifier(folder):
            load_classifier(folder)
            return FolderCheck(files_digest(folder, RULES_FILE, CLASSIFIER_FILE, WEIGHTS_FILE))
        return FolderCheck(files_digest(folder, RULES_FILE))

    def uses_classifier(self) -> bool:
        """Whether the classifier decides: ``useClassifier`` and a folder that has one."""
        return self.getUseClassifier() and has_classifier(self.files_folder())

    def output_labels(
        self, input_labels: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        return LABELS

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        window = tuple(self.getScopeWindow())
        if self.uses_classifier():
            load_model = partial(load_classifier_within, window=window)
            model = self.model_files(files, load_model, "classifier", window)
            return partial(assert_with_classifier, model=model)
        load = partial(load_rules_within, window=window)
        return partial(assert_with_rules, rules=self.model_files(files, load, window))
