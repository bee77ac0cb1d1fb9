"""The learned assertion classifier's engine: the rules' view of each chunk, the features, the
sections, training on a tiny set, the files (no pickle) and rows without content."""

from __future__ import annotations

import itertools
import json
import zipfile
from functools import cache

import numpy as np
import pyarrow as pa
import pytest

import sparkner.assertion.classifier as classifier_module
from sparkner.assertion import bundled_rules
from sparkner.assertion.classifier import (
    _ROW_BITS,
    _SUM_BLOCK,
    CLASSIFIER_FILE,
    LEFT,
    NO_SECTION,
    SECTION,
    SECTION_TYPE,
    TRIGGER,
    TYPE,
    VERDICT,
    WEIGHTS_FILE,
    AssertionClassifier,
    ClassifierFileError,
    ClassifierModel,
    FeatureSettings,
    TrainingSettings,
    _csr,
    _hashes,
    _row_sums,
    _table_slots,
    chunk_feature_rows,
    chunk_sections,
    classify_chunks,
    feature_key,
    lbfgs,
    load_classifier,
    save_classifier,
    softmax,
    text_hash,
    train_classifier,
)
from sparkner.assertion.context import (
    LABELS,
    ContextRules,
    Rule,
    assert_chunks,
    chunk_contexts,
)
from sparkner.core.annotation import SECTION as SECTION_TYPE_NAME
from sparkner.core.annotation import AnnotationBatch, build_annotations
from sparkner.sections.headers import SectionRules
from sparkner.training.assertion_spans import chunks_from_spans, text_columns


def columns_of(texts, spans, entities):
    columns = text_columns(texts)
    return columns["sentence"], columns["token"], chunks_from_spans(texts, spans, entities)


def span_of(text: str, phrase: str, start: int = 0) -> tuple[int, int]:
    begin = text.index(phrase, start)
    return begin, begin + len(phrase) - 1


NOTE = "FAMILY HISTORY: Mother had breast cancer. PLAN: She denies chest pain today. CT scan."


def test_chunk_contexts_give_triggers_in_scope_and_the_words_around():
    spans = [span_of(NOTE, "chest pain"), span_of(NOTE, "breast cancer")]
    sentences, tokens, chunks = columns_of([NOTE], [spans], [["PROBLEM", "PROBLEM"]])
    rules = bundled_rules()
    contexts = chunk_contexts(sentences, tokens, chunks, rules, collect=rules)
    assert contexts.left(0, 2) == ["she", "denies"]
    assert contexts.inside(0) == ["chest", "pain"]
    assert contexts.right(0, 2) == ["today", "."]
    sentence = contexts.words[contexts.sentence_start[0] : contexts.sentence_end[0]]
    assert sentence == ["she", "denies", "chest", "pain", "today", "."]
    denies = [rules.rules[n].phrase for n, _, before in contexts.triggers(0) if before]
    assert ("denies",) in denies
    assert contexts.labels[0] == "absent"
    # "breast cancer" is in another sentence: "denies" is not in its scope.
    assert all(rules.rules[n].phrase != ("denies",) for n, _, _ in contexts.triggers(1))
    # Without collecting: the very labels and rules of assert_chunks, no words.
    plain = chunk_contexts(sentences, tokens, chunks, rules)
    assert plain.words == [] and len(plain.trigger_chunk) == 0
    asserted = AnnotationBatch(assert_chunks(sentences, tokens, chunks, rules))
    assert asserted.result == plain.labels == contexts.labels
    assert asserted.metadata("trigger").to_pylist() == [str(n) for n in plain.deciding]


def test_features_hold_the_verdict_the_triggers_the_section_and_the_words():
    spans = [span_of(NOTE, "chest pain"), span_of(NOTE, "breast cancer"), span_of(NOTE, "CT scan")]
    sentences, tokens, chunks = columns_of([NOTE], [spans], [["PROBLEM", "PROBLEM", "TEST"]])
    offsets, keys = chunk_feature_rows(
        sentences, tokens, chunks, bundled_rules(), FeatureSettings()
    )
    assert offsets[0] == 0 and offsets[-1] == len(keys) and len(offsets) == 4
    pain, cancer, scan = (set(keys[lo:hi].tolist()) for lo, hi in itertools.pairwise(offsets))
    for lo, hi in itertools.pairwise(offsets):
        assert (np.diff(keys[lo:hi]) > 0).all()  # sorted and distinct: binary features
    assert {
        feature_key(VERDICT, "absent"),
        feature_key(TRIGGER, "absent", "<"),
        feature_key(SECTION, "plan"),
        feature_key(TYPE, "PROBLEM"),
        feature_key(LEFT, "denies"),
    } <= pain
    assert feature_key(SECTION, "family_history") in cancer
    assert feature_key(SECTION_TYPE, "plan", "TEST") in scan
    assert feature_key(LEFT, "denies") not in scan
    # The same value in two slots gives two keys.
    assert feature_key(SECTION, "plan") != feature_key(TYPE, "plan")


def test_sections_come_from_a_column_the_chunks_metadata_or_the_sentences():
    texts = [NOTE]
    spans = [[span_of(NOTE, "breast cancer"), span_of(NOTE, "chest pain")]]
    columns = text_columns(texts)
    sentence_batch = AnnotationBatch(columns["sentence"])
    chunks = chunks_from_spans(texts, spans, [["PROBLEM", "PROBLEM"]])
    found = chunk_sections(sentence_batch, AnnotationBatch(chunks), None, SectionRules())
    assert found == ["family_history", "plan"]
    # A section column wins: here one section over the whole note.
    column = build_annotations(
        SECTION_TYPE_NAME, np.array([0, 1]), [0], [len(NOTE) - 1], ["assessment"], metadata={}
    )
    assert chunk_sections(sentence_batch, AnnotationBatch(chunks), column, SectionRules()) == [
        "assessment",
        "assessment",
    ]
    # Chunks with section metadata (NerConverter's): where any chunk of a row has it, a chunk
    # without it is before the first header.
    tagged = build_annotations(
        "chunk",
        np.array([0, 2]),
        [s[0] for s in spans[0]],
        [s[1] for s in spans[0]],
        ["breast cancer", "chest pain"],
        metadata={"entity": ["PROBLEM", "PROBLEM"], "section": pa.array([None, "hpi"])},
    )
    assert chunk_sections(sentence_batch, AnnotationBatch(tagged), None, SectionRules()) == [
        NO_SECTION,
        "hpi",
    ]


def tiny_rules() -> ContextRules:
    return ContextRules((Rule(("no",), "forward", "absent"),), max_scope=5)


def tiny_corpus():
    """Chunks after "maybe" are possible (no rule says so), tests in a plan are hypothetical,
    chunks after "no" are absent, the rest present."""
    texts, spans, entities, labels = [], [], [], []
    findings = ["fever", "cough", "rash", "pain", "nausea", "edema", "anemia", "fatigue"]
    for i, word in enumerate(findings * 3):
        kind = i % 4
        if kind == 0:
            text, label, entity = f"Patient has maybe {word} now.", "possible", "PROBLEM"
        elif kind == 1:
            text, label, entity = f"HPI: Patient has {word} now.", "present", "PROBLEM"
        elif kind == 2:
            text, label, entity = f"PLAN: {word} panel.", "hypothetical", "TEST"
        else:
            text, label, entity = f"Patient has no {word} now.", "absent", "PROBLEM"
        texts.append(text)
        spans.append([span_of(text, word)])
        entities.append([entity])
        labels.append(label)
    return texts, spans, entities, labels


@cache
def trained() -> AssertionClassifier:
    texts, spans, entities, labels = tiny_corpus()
    sentences, tokens, chunks = columns_of(texts, spans, entities)
    settings = FeatureSettings(window=3)
    rows = chunk_feature_rows(sentences, tokens, chunks, tiny_rules(), settings)
    return train_classifier(rows, labels, settings, TrainingSettings(l2=1e-2, iterations=100))


def predict(classifier: AssertionClassifier, texts, spans, entities) -> list[str]:
    sentences, tokens, chunks = columns_of(texts, spans, entities)
    model = ClassifierModel(tiny_rules(), classifier)
    return AnnotationBatch(classify_chunks(sentences, tokens, chunks, None, model)).result


def test_training_on_a_tiny_set_learns_the_obvious_rules():
    classifier = trained()
    texts = [
        "Patient has maybe sepsis now.",
        "HPI: Patient has sepsis now.",
        "PLAN: lipid panel.",
        "Patient has no sepsis now.",
    ]
    spans = [[span_of(t, "sepsis" if "sepsis" in t else "lipid")] for t in texts]
    entities = [["PROBLEM"], ["PROBLEM"], ["TEST"], ["PROBLEM"]]
    assert predict(classifier, texts, spans, entities) == [
        "possible",
        "present",
        "hypothetical",
        "absent",
    ]


def test_confidence_is_the_probability_and_offsets_are_the_chunks():
    classifier = trained()
    text = "Patient has maybe sepsis now."
    sentences, tokens, chunks = columns_of([text], [[span_of(text, "sepsis")]], [["PROBLEM"]])
    out = AnnotationBatch(
        classify_chunks(sentences, tokens, chunks, None, ClassifierModel(tiny_rules(), classifier))
    )
    (begin,), (end,) = out.begin.tolist(), out.end.tolist()
    assert text[begin : end + 1] == "sepsis"
    confidence = float(out.metadata("confidence")[0].as_py())
    assert 0.5 < confidence < 1.0
    assert out.metadata("chunk").to_pylist() == ["0"]


def test_save_and_load_round_trip_without_pickle(tmp_path):
    classifier = trained()
    save_classifier(classifier, tmp_path)
    header = json.loads((tmp_path / CLASSIFIER_FILE).read_text())
    assert header["format"] == "sparkner-assertion-classifier"
    assert header["labels"] == list(LABELS)
    # Plain arrays only: every member of the archive loads with pickle refused.
    with zipfile.ZipFile(tmp_path / WEIGHTS_FILE) as archive:
        assert sorted(archive.namelist()) == ["bias.npy", "keys.npy", "weights.npy"]
    with np.load(tmp_path / WEIGHTS_FILE, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = load_classifier(tmp_path)
    assert (loaded.labels, loaded.settings) == (classifier.labels, classifier.settings)
    for name in ("keys", "weights", "bias"):
        assert np.array_equal(getattr(loaded, name), getattr(classifier, name))
    texts, spans, entities, _ = tiny_corpus()
    assert predict(loaded, texts, spans, entities) == predict(classifier, texts, spans, entities)


def test_damaged_classifier_files_are_refused(tmp_path):
    with pytest.raises(ClassifierFileError, match=r"no assertion_classifier\.json"):
        load_classifier(tmp_path)
    save_classifier(trained(), tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not an archive")
    with pytest.raises(ClassifierFileError, match="damaged assertion classifier"):
        load_classifier(tmp_path)
    (tmp_path / CLASSIFIER_FILE).write_text(json.dumps({"format": "other", "version": 1}))
    with pytest.raises(ClassifierFileError, match="not a sparkner-assertion-classifier"):
        load_classifier(tmp_path)


def test_null_and_empty_rows_come_out():
    classifier = trained()
    text = "Patient has no fever now."
    texts = [None, "", text, "No entities here."]
    spans = [[], [], [span_of(text, "fever")], []]
    sentences, tokens, chunks = columns_of(texts, spans, [[], [], ["PROBLEM"], []])
    out = classify_chunks(
        sentences, tokens, chunks, None, ClassifierModel(tiny_rules(), classifier)
    )
    assert len(out) == 4
    assert [len(row) for row in out.to_pylist()] == [0, 0, 1, 0]
    assert out.to_pylist()[2][0]["result"] == "absent"
    # A chunk without tokens (an empty token column) is still classified, by its type alone.
    no_tokens = pa.array([[]], out.type)
    single = chunks_from_spans([text], [[span_of(text, "fever")]], [["PROBLEM"]])
    found = classify_chunks(
        no_tokens, no_tokens, single, None, ClassifierModel(tiny_rules(), classifier)
    )
    assert found.to_pylist()[0][0]["result"] in LABELS


def test_training_refuses_unknown_labels_and_lbfgs_minimises():
    with pytest.raises(ValueError, match="unknown labels"):
        train_classifier(
            (np.array([0, 1]), np.array([feature_key(TYPE, "X")])), ["maybe"], FeatureSettings()
        )
    target = np.array([3.0, -2.0, 0.5])

    def quadratic(x):
        return float(((x - target) ** 2).sum()), 2 * (x - target)

    assert np.allclose(lbfgs(quadratic, np.zeros(3), 50), target, atol=1e-5)


# -- the fast paths give what the plain computations give ----------------------------------


def plain_scores(classifier: AssertionClassifier, offsets, keys) -> np.ndarray:
    """Logits the plain way: each key's row by binary search, a zero row for an unknown key,
    running sums over all rows."""
    found = np.minimum(np.searchsorted(classifier.keys, keys), len(classifier.keys) - 1)
    known = classifier.keys[found] == keys
    rows = np.zeros((len(keys), len(classifier.labels)))
    rows[known] = classifier.weights[found[known]]
    return _row_sums(rows, offsets) + classifier.bias


def random_classifier(keys: np.ndarray, seed: int = 0) -> AssertionClassifier:
    rng = np.random.default_rng(seed)
    # Magnitudes far apart, so that float64 sums round and their order shows.
    scale = 10.0 ** rng.uniform(-12, 4, (len(keys), len(LABELS)))
    weights = (rng.standard_normal((len(keys), len(LABELS))) * scale).astype(np.float32)
    return AssertionClassifier(
        LABELS,
        FeatureSettings(),
        keys,
        weights,
        rng.standard_normal(len(LABELS)).astype(np.float32),
    )


def test_the_key_table_finds_every_key_and_no_other():
    rng = np.random.default_rng(1)
    keys = np.unique(rng.integers(0, 1 << 40, 5000))
    classifier = random_classifier(keys)
    table = classifier.key_table
    assert table is not None and len(table) >= 2 * len(keys)
    # Some keys share a home slot: the probing is exercised.
    assert ((table[_table_slots(keys, len(table))] >> _ROW_BITS) != keys).any()
    queries = np.concatenate(
        [keys[::-1], rng.integers(0, 1 << 40, 5000), keys + 1, [-1, 1 << 41, 2**63 - 1, 0]]
    )
    expected = np.full(len(queries), -1)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    expected[keys[at] == queries] = at[keys[at] == queries]
    assert np.array_equal(classifier.rows_of(queries), expected)
    assert np.array_equal(classifier.rows_of(keys), np.arange(len(keys)))
    assert len(classifier.rows_of(np.zeros(0, np.int64))) == 0


def test_keys_past_the_packing_and_no_keys_are_looked_up_too():
    wide = random_classifier(np.array([3, 1 << 45], dtype=np.int64))
    assert wide.key_table is None  # a key of more than 40 bits: binary search
    assert wide.rows_of(np.array([1 << 45, 3, 4])).tolist() == [1, 0, -1]
    empty = random_classifier(np.zeros(0, dtype=np.int64))
    assert empty.rows_of(np.array([1, 2])).tolist() == [-1, -1]
    offsets = np.array([0, 1, 2])
    assert np.array_equal(empty.scores(offsets, np.array([1, 2])), np.tile(empty.bias, (2, 1)))


def test_scores_are_the_plain_running_sums_to_the_bit():
    rng = np.random.default_rng(2)
    keys = np.unique(rng.integers(0, 1 << 40, 3000))
    classifier = random_classifier(keys, seed=3)
    total = 3 * _SUM_BLOCK + 17  # several blocks, rows across their edges
    features = np.where(
        rng.random(total) < 0.8, rng.choice(keys, total), rng.integers(0, 1 << 40, total)
    )
    cuts = rng.choice(np.arange(1, total), 700, replace=False)
    # Empty rows, and rows that end exactly at a block's edge.
    offsets = np.sort(np.concatenate([[0, 0, _SUM_BLOCK, 2 * _SUM_BLOCK, total, total], cuts]))
    found = classifier.scores(offsets, features)
    assert found.shape == (len(offsets) - 1, len(LABELS))
    assert np.array_equal(found, plain_scores(classifier, offsets, features))
    assert np.array_equal(
        classifier.probabilities(offsets, features),
        softmax(plain_scores(classifier, offsets, features)),
    )
    # Every key known, and no key at all.
    known = rng.choice(keys, 50)
    assert np.array_equal(
        classifier.scores(np.array([0, 20, 50]), known),
        plain_scores(classifier, np.array([0, 20, 50]), known),
    )
    none = np.zeros(0, np.int64)
    assert np.array_equal(classifier.scores(np.array([0, 0]), none), classifier.bias[None] + 0.0)


def test_feature_rows_are_each_chunks_distinct_keys_in_order():
    rng = np.random.default_rng(4)
    owner = rng.integers(0, 40, 2000)
    keys = rng.integers(0, 1 << 40, 2000)
    keys[::3] = keys[0]  # repeats, within a chunk and across chunks
    offsets, found = _csr(owner, keys, 45)  # the last chunks have no features
    pairs = sorted(set(zip(owner.tolist(), keys.tolist(), strict=True)))
    assert found.tolist() == [k for _, k in pairs]
    assert np.diff(offsets).tolist() == [sum(o == c for o, _ in pairs) for c in range(45)]
    empty_offsets, empty_keys = _csr(np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    assert empty_offsets.tolist() == [0, 0, 0, 0] and len(empty_keys) == 0


def test_text_hashes_are_the_same_from_the_cache(monkeypatch):
    values = ["denies", "fever", "denies", "", "fiebre", "\u00e9dème", "fever"]
    expected = [text_hash(v) for v in values]
    assert _hashes(values).tolist() == expected
    assert _hashes(values).tolist() == expected  # now from the cache
    monkeypatch.setattr(classifier_module, "_HASHED", {})
    monkeypatch.setattr(classifier_module, "_HASHED_LIMIT", 3)  # emptied as it fills
    assert _hashes(values).tolist() == expected
    assert len(classifier_module._HASHED) <= 5 and _hashes([]).tolist() == []


def test_classification_is_the_plain_scoring_of_the_training_features():
    """What classify_chunks decides is what the features chunk_feature_rows gives for
    training score the plain way: the same features, the same probabilities."""
    classifier = trained()
    texts, spans, entities, _ = tiny_corpus()
    texts = [*texts, NOTE]
    spans = [*spans, [span_of(NOTE, "chest pain"), span_of(NOTE, "breast cancer")]]
    entities = [*entities, ["PROBLEM", "TEST"]]
    sentences, tokens, chunks = columns_of(texts, spans, entities)
    offsets, keys = chunk_feature_rows(sentences, tokens, chunks, tiny_rules(), classifier.settings)
    probabilities = softmax(plain_scores(classifier, offsets, keys))
    best = probabilities.argmax(axis=1)
    model = ClassifierModel(tiny_rules(), classifier)
    out = AnnotationBatch(classify_chunks(sentences, tokens, chunks, None, model))
    assert out.result == [classifier.labels[b] for b in best]
    assert out.metadata("confidence").to_pylist() == [
        f"{p:.4f}" for p in probabilities[np.arange(len(best)), best]
    ]


def test_sections_are_found_only_in_rows_whose_chunks_lack_them():
    spans = [span_of(NOTE, "breast cancer"), span_of(NOTE, "chest pain")]
    columns = text_columns([NOTE, NOTE, NOTE])
    # Row 0: NerConverter's section metadata (the first chunk before any header); row 1:
    # none, so its headers are found in its sentences; row 2: no chunks.
    tagged = build_annotations(
        "chunk",
        np.array([0, 2, 4, 4]),
        [s[0] for s in spans] * 2,
        [s[1] for s in spans] * 2,
        ["breast cancer", "chest pain"] * 2,
        metadata={"entity": ["PROBLEM"] * 4, "section": pa.array([None, "hpi", None, None])},
    )
    found = chunk_sections(
        AnnotationBatch(columns["sentence"]), AnnotationBatch(tagged), None, SectionRules()
    )
    assert found == [NO_SECTION, "hpi", "family_history", "plan"]
