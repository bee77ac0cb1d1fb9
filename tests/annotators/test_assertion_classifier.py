"""AssertionModel over a folder with a learned classifier, a rules-only folder, the optional
section input and rows without content, through the stage's own batch function (no Spark;
the Spark path: tests/annotators/test_assertion.py)."""

from __future__ import annotations

import shutil
from functools import cache

import numpy as np
import pytest

from sparkner import AssertionModel
from sparkner.assertion.classifier import (
    CLASSIFIER_FILE,
    WEIGHTS_FILE,
    ClassifierFileError,
    FeatureSettings,
    TrainingSettings,
    chunk_feature_rows,
    save_classifier,
    train_classifier,
)
from sparkner.assertion.context import RULES_FILE, bundled_rules
from sparkner.core.annotation import SECTION, AnnotationBatch, build_annotations
from sparkner.resources import bundled_folder
from sparkner.training.assertion_spans import chunks_from_spans, text_columns

RULES = bundled_folder("assertion_clinical", RULES_FILE, "assertion rules") / RULES_FILE
TEXT = "PLAN: MRI of the spine. HPI: She denies fever."


def columns(texts, phrases_and_types):
    found = text_columns(texts)
    spans, entities = [], []
    for text, pairs in zip(texts, phrases_and_types, strict=True):
        spans.append(
            [((text or "").index(p), (text or "").index(p) + len(p) - 1) for p, _ in pairs]
        )
        entities.append([kind for _, kind in pairs])
    return found["sentence"], found["token"], chunks_from_spans(texts, spans, entities)


@cache
def tiny_classifier():
    """Trained on notes where tests in a plan are hypothetical and problems after "denies"
    absent: the rules alone would call the MRI present."""
    texts, pairs, labels = [], [], []
    for word in ["CT", "MRI", "EEG", "echo", "x-ray", "biopsy"]:
        texts.append(f"PLAN: {word} of the spine.")
        pairs.append([(word, "TEST")])
        labels.append("hypothetical")
        texts.append(f"HPI: {word} of the spine was done.")
        pairs.append([(word, "TEST")])
        labels.append("present")
    for word in ["fever", "cough", "rash", "pain", "nausea", "edema"]:
        texts.append(f"HPI: She denies {word}.")
        pairs.append([(word, "PROBLEM")])
        labels.append("absent")
        texts.append(f"HPI: She has {word}.")
        pairs.append([(word, "PROBLEM")])
        labels.append("present")
    sentences, tokens, chunks = columns(texts, pairs)
    settings = FeatureSettings(window=3)
    rows = chunk_feature_rows(sentences, tokens, chunks, bundled_rules(), settings)
    return train_classifier(rows, labels, settings, TrainingSettings(l2=1e-2, iterations=100))


@pytest.fixture
def classifier_folder(tmp_path):
    shutil.copyfile(RULES, tmp_path / RULES_FILE)
    save_classifier(tiny_classifier(), tmp_path)
    return tmp_path


@pytest.fixture
def rules_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    shutil.copyfile(RULES, folder / RULES_FILE)
    return folder


def run(stage: AssertionModel, *arrays):
    return AnnotationBatch(stage.batch_function()(*arrays))


def test_a_folder_with_a_classifier_is_decided_by_it(classifier_folder):
    stage = AssertionModel().attach_files(classifier_folder)
    assert stage.uses_classifier()
    sentences, tokens, chunks = columns([TEXT], [[("MRI", "TEST"), ("fever", "PROBLEM")]])
    found = run(stage, sentences, tokens, chunks)
    assert found.result == ["hypothetical", "absent"]
    confidence = [float(c) for c in found.metadata("confidence").to_pylist()]
    assert all(0.0 < c < 1.0 for c in confidence)
    # Switched off, the folder's rules decide: TEST chunks are not asserted.
    rules_only = run(stage.copy().setUseClassifier(False), sentences, tokens, chunks)
    assert rules_only.result == ["present", "absent"]
    assert rules_only.metadata("confidence").to_pylist() == ["1.0000", "1.0000"]


def test_a_rules_only_folder_still_works(rules_folder, classifier_folder):
    stage = AssertionModel().attach_files(rules_folder)
    assert not stage.uses_classifier()
    sentences, tokens, chunks = columns([TEXT], [[("MRI", "TEST"), ("fever", "PROBLEM")]])
    assert run(stage, sentences, tokens, chunks).result == ["present", "absent"]
    # The classifier's files are part of the fingerprint (the per-process cache's key).
    with_classifier = AssertionModel().attach_files(classifier_folder)
    assert stage.fingerprint != with_classifier.fingerprint


def test_the_section_input_is_optional_and_read(classifier_folder):
    stage = AssertionModel().attach_files(classifier_folder)
    stage.setInputCols(["sentence", "token", "ner_chunk", "section"])
    assert list(stage.resolve_inputs()) == ["sentence", "token", "chunk", "section"]
    text = "She will have an MRI of the spine."
    sentences, tokens, chunks = columns([text], [[("MRI", "TEST")]])
    plan = build_annotations(SECTION, np.array([0, 1]), [0], [len(text) - 1], ["plan"], {})
    hpi = build_annotations(SECTION, np.array([0, 1]), [0], [len(text) - 1], ["history"], {})
    in_plan = run(stage, sentences, tokens, chunks, plan)
    in_hpi = run(stage, sentences, tokens, chunks, hpi)
    assert in_plan.result == ["hypothetical"]
    plan_p = float(in_plan.metadata("confidence")[0].as_py())
    hpi_p = float(in_hpi.metadata("confidence")[0].as_py())
    assert in_hpi.result != in_plan.result or hpi_p < plan_p


def test_null_and_empty_rows_come_out(classifier_folder):
    stage = AssertionModel().attach_files(classifier_folder)
    texts = [None, "", TEXT, "Nothing to see."]
    pairs = [[], [], [("MRI", "TEST")], []]
    sentences, tokens, chunks = columns(texts, pairs)
    found = stage.batch_function()(sentences, tokens, chunks)
    assert [len(row) for row in found.to_pylist()] == [0, 0, 1, 0]
    (annotation,) = found.to_pylist()[2]
    assert TEXT[annotation["begin"] : annotation["end"] + 1] == "MRI"


def test_damaged_classifier_files_are_refused_when_attached(classifier_folder):
    (classifier_folder / WEIGHTS_FILE).unlink()
    with pytest.raises(ClassifierFileError, match="damaged assertion classifier"):
        AssertionModel().attach_files(classifier_folder)
    (classifier_folder / CLASSIFIER_FILE).write_text("{")
    with pytest.raises(ClassifierFileError, match="not valid JSON"):
        AssertionModel().attach_files(classifier_folder)
