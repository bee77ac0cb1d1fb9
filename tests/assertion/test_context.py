"""The ConText assertion rules: the fictional sentences they must get right, the matcher's
overlap and scope rules, the Arrow batch function's edge cases, and the rule files."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_support import TEXTS, text_columns

from sparkner.assertion import (
    ABSENT,
    CONDITIONAL,
    HYPOTHETICAL,
    POSSIBLE,
    PRESENT,
    SOMEONE_ELSE,
    ContextRules,
    Rule,
    assert_chunks,
    bundled_rules,
    load_rules,
)
from sparkner.assertion.context import (
    BACKWARD,
    FORWARD,
    PSEUDO,
    TERMINATE,
    assert_sentence,
    find_triggers,
)
from sparkner.core.annotation import CHUNK, AnnotationBatch, build_annotations
from sparkner.training.assertion_spans import assert_spans, chunks_from_spans


def labels(text: str, *words: str, rules: ContextRules | None = None) -> list[str]:
    """The label of each word's first occurrence in ``text`` (sparkner's sentences and
    tokens, the bundled rules unless given)."""
    spans = [(text.index(w), text.index(w) + len(w) - 1) for w in words]
    result = assert_spans([text], [spans], rules or bundled_rules())[0]
    assert [(b, e) for b, e, _ in result] == spans
    return [label for _, _, label in result]


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("Patient denies chest pain.", ["chest pain"], [ABSENT]),
        ("There is no evidence of pneumonia.", ["pneumonia"], [ABSENT]),
        ("Rule out MI.", ["MI"], [POSSIBLE]),
        ("Troponins drawn to rule out MI.", ["MI"], [POSSIBLE]),
        ("Pneumonia is unlikely.", ["Pneumonia"], [POSSIBLE]),
        ("Return if fever develops.", ["fever"], [HYPOTHETICAL]),
        ("Shortness of breath when climbing stairs.", ["Shortness of breath"], [CONDITIONAL]),
        ("Her mother had breast cancer.", ["breast cancer"], [SOMEONE_ELSE]),
        ("Mother had breast cancer.", ["breast cancer"], [SOMEONE_ELSE]),
        ("No change in the effusion.", ["effusion"], [PRESENT]),
        ("Not only fever but also cough.", ["fever", "cough"], [PRESENT, PRESENT]),
        ("No fever but has cough.", ["fever", "cough"], [ABSENT, PRESENT]),
        (
            "No fever, chills or night sweats.",
            ["fever", "chills", "night sweats"],
            [ABSENT, ABSENT, ABSENT],
        ),
        ("Denies fever. Cough present.", ["fever", "Cough"], [ABSENT, PRESENT]),
        ("Family history of diabetes.", ["diabetes"], [SOMEONE_ELSE]),
        ("Biopsy negative for malignancy.", ["malignancy"], [ABSENT]),
        ("Margins free of disease.", ["disease"], [ABSENT]),
        ("Recovered without complication.", ["complication"], [ABSENT]),
        ("He remained seizure free for a year.", ["seizure"], [ABSENT]),
        ("Gram negative rods; no bacteremia.", ["rods", "bacteremia"], [PRESENT, ABSENT]),
        ("He didn't have fever.", ["fever"], [ABSENT]),
        ("She has fever and cough.", ["fever", "cough"], [PRESENT, PRESENT]),
        ("Wheezing if exposed to cats.", ["Wheezing"], [CONDITIONAL]),
        ("Chest pain on exertion.", ["Chest pain"], [CONDITIONAL]),
        ("Possible pneumonia.", ["pneumonia"], [POSSIBLE]),
        ("Suspected appendicitis.", ["appendicitis"], [POSSIBLE]),
        ("Metastasis cannot be excluded.", ["Metastasis"], [POSSIBLE]),
        ("No fever, which resolved cough.", ["fever", "cough"], [ABSENT, PRESENT]),
        ("Aspirin was discontinued.", ["Aspirin"], [ABSENT]),
        ("Headache resolved.", ["Headache"], [ABSENT]),
        ("Brother has asthma.", ["asthma"], [SOMEONE_ELSE]),
        ("DENIES CHEST PAIN.", ["CHEST PAIN"], [ABSENT]),
        # Unicode apostrophe: the same trigger as "didn't".
        ("He didn’t have fever.", ["fever"], [ABSENT]),
    ],
)
def test_fictional_sentences(text, words, expected):
    assert labels(text, *words) == expected


def test_scope_window_counts_words_not_punctuation():
    # "itch" is the 7th word after "no" (the window), the 13th token; "edema" the 8th word.
    text = "No fever, chills, sweats, rash, cough, nausea, itch, edema."
    assert bundled_rules().max_scope == 7
    assert labels(text, "itch", "edema") == [ABSENT, PRESENT]


def test_max_scope_limits_the_scope():
    text = "No fever or chills or rash."
    short = bundled_rules().with_settings(max_scope=2)
    assert labels(text, "fever", "rash", rules=short) == [ABSENT, PRESENT]
    assert labels(text, "fever", "rash") == [ABSENT, ABSENT]


def test_priority_order_or_nearest_trigger():
    # "no" (absent) and "possible" (possible) both reach "pneumonia".
    text = "No fever, possible pneumonia."
    assert labels(text, "pneumonia") == [ABSENT]  # default order: absent > possible
    nearest = bundled_rules().with_settings(priority=None)
    assert labels(text, "pneumonia", rules=nearest) == [POSSIBLE]


def test_chunk_own_tokens_are_not_its_trigger():
    text = "No acute distress."
    assert labels(text, "No acute distress") == [PRESENT]
    assert labels(text, "distress") == [ABSENT]


def test_unasserted_entities_stay_present():
    text = "Tumor cells were negative for CD3 and malignancy."
    spans = [
        [
            (text.index("CD3"), text.index("CD3") + 2),
            (text.index("malignancy"), text.index("malignancy") + 9),
        ]
    ]
    rules = bundled_rules()
    assert "TEST" in rules.unasserted_entities
    got = assert_spans([text], spans, rules, [["TEST", "PROBLEM"]])[0]
    assert [label for *_, label in got] == [PRESENT, ABSENT]
    everything = rules.with_settings(unasserted_entities=())
    got = assert_spans([text], spans, everything, [["TEST", "PROBLEM"]])[0]
    assert [label for *_, label in got] == [ABSENT, ABSENT]


# -- the matcher ------------------------------------------------------------------------


def tiny_rules(**settings) -> ContextRules:
    return ContextRules(
        (
            Rule(("no",), FORWARD, ABSENT),
            Rule(("no", "change"), PSEUDO),
            Rule(("with", "no"), FORWARD, ABSENT),
            Rule(("was", "negative"), BACKWARD, ABSENT),
            Rule(("negative", "for"), FORWARD, ABSENT),
            Rule(("but",), TERMINATE),
            Rule(("because",), TERMINATE, HYPOTHETICAL),
            Rule(("if",), FORWARD, HYPOTHETICAL),
        ),
        **settings,
    )


def test_pseudo_trigger_blocks_nested_and_overlapping_triggers():
    rules = tiny_rules()
    words = ["seen", "with", "no", "change", "in", "effusion"]
    found = [rules.rules[n].phrase for _, _, n in find_triggers(words, rules)]
    assert found == [("no", "change")]


def test_real_triggers_that_only_overlap_both_count():
    rules = tiny_rules()
    words = ["fluid", "was", "negative", "for", "tumor"]
    found = [rules.rules[n].phrase for _, _, n in find_triggers(words, rules)]
    assert found == [("was", "negative"), ("negative", "for")]
    assert assert_sentence(words, [(0, 0), (4, 4)], rules) == [(ABSENT, 3), (ABSENT, 4)]


def test_terminate_term_of_one_label_ends_only_that_label():
    rules = tiny_rules()
    words = ["if", "no", "pain", "because", "of", "fever"]
    got = [label for label, _ in assert_sentence(words, [(5, 5)], rules)]
    assert got == [ABSENT]  # "because" ended the hypothetical scope, not the absent one
    words = ["no", "pain", "but", "fever"]
    assert assert_sentence(words, [(1, 1), (3, 3)], rules) == [(ABSENT, 0), (PRESENT, -1)]


def test_rule_and_rules_validate():
    with pytest.raises(ValueError, match="label"):
        Rule(("no",), FORWARD)
    with pytest.raises(ValueError, match="direction"):
        Rule(("no",), "sideways", ABSENT)
    with pytest.raises(ValueError, match="phrase"):
        Rule((), FORWARD, ABSENT)
    with pytest.raises(ValueError, match="max_scope"):
        tiny_rules(max_scope=0)
    with pytest.raises(ValueError, match="priority"):
        tiny_rules(priority=(ABSENT,))


def test_rules_are_hashable_and_cacheable():
    a, b = bundled_rules(), bundled_rules()
    assert a == b and hash(a) == hash(b)  # equal rule sets, whichever read
    assert hash(a) == hash(a.with_settings()) and a == a.with_settings()
    assert a != a.with_settings(max_scope=a.max_scope + 1)
    assert {a: 1}[a.with_settings()] == 1


def test_load_rules_reads_plain_json(tmp_path):
    document = {
        "format": "sparkner-context-rules",
        "version": 1,
        "max_scope": 3,
        "max_scope_backward": 2,
        "priority": None,
        "unasserted_entities": ["TEST"],
        "rules": [
            {"phrase": "Denies", "direction": "forward", "label": "absent", "source": "x"},
            {"phrase": "but", "direction": "terminate", "label": None},
        ],
    }
    (tmp_path / "context_rules.json").write_text(json.dumps(document))
    rules = load_rules(tmp_path)
    assert rules.rules[0] == Rule(("denies",), FORWARD, ABSENT, "x")
    assert (rules.max_scope, rules.max_scope_backward, rules.priority) == (3, 2, None)
    assert rules.unasserted_entities == ("TEST",)
    assert load_rules(tmp_path, max_scope=9).max_scope == 9


@pytest.mark.parametrize(
    "content",
    [
        '{"format": "other", "rules": []}',
        '{"format": "sparkner-context-rules"}',
        '{"format": "sparkner-context-rules", "rules": [{"phrase": "no"}]}',
        '{"format": "sparkner-context-rules", "rules": [{"phrase": "no", '
        '"direction": "forward", "label": "nope"}]}',
        "[]",
    ],
)
def test_load_rules_rejects_invalid_files(tmp_path, content):
    (tmp_path / "context_rules.json").write_text(content)
    with pytest.raises(ValueError, match=r"context_rules\.json"):
        load_rules(tmp_path)


def test_bundled_rules_cover_every_category():
    rules = bundled_rules()
    kinds = {(r.direction, r.label) for r in rules.rules}
    for label in (ABSENT, POSSIBLE, HYPOTHETICAL, CONDITIONAL, SOMEONE_ELSE):
        assert any(lab == label for _, lab in kinds), label
    assert (PSEUDO, None) in kinds and (TERMINATE, None) in kinds
    phrases = [r.phrase for r in rules.rules]
    assert len(phrases) == len(set(phrases))  # one rule per phrase


# -- the Arrow batch function -----------------------------------------------------------


def chunk_column(rows: list[list[tuple[int, int, dict[str, str]]]]) -> pa.Array:
    """Chunks with the given metadata (every chunk the same keys, as annotators write)."""
    flat = [c for row in rows for c in row]
    keys = list(flat[0][2]) if flat else []
    return build_annotations(
        CHUNK,
        np.concatenate([[0], np.cumsum([len(r) for r in rows])]),
        [b for b, _, _ in flat],
        [e for _, e, _ in flat],
        ["x"] * len(flat),
        {k: [m[k] for _, _, m in flat] for k in keys},
    )


def rows_of(column: pa.Array) -> list[list[dict]]:
    batch = AnnotationBatch(column)
    flat = batch.annotations.to_pylist()
    offsets = batch.row_offsets
    return [flat[offsets[i] : offsets[i + 1]] for i in range(batch.num_rows)]


def test_output_annotations_and_metadata():
    texts = ["Denies fever. Has cough.", None, "", "Possible pneumonia."]
    _, sentences, tokens = text_columns(texts)
    chunks = chunk_column(
        [
            [
                (7, 11, {"entity": "PROBLEM", "sentence": "0", "chunk": "0"}),
                (18, 22, {"entity": "PROBLEM", "sentence": "1", "chunk": "1"}),
            ],
            [],
            [],
            [(9, 17, {"entity": "PROBLEM", "sentence": "0", "chunk": "0"})],
        ]
    )
    out = rows_of(assert_chunks(sentences, tokens, chunks, bundled_rules()))
    assert [[(a["begin"], a["end"], a["result"]) for a in row] for row in out] == [
        [(7, 11, ABSENT), (18, 22, PRESENT)],
        [],
        [],
        [(9, 17, POSSIBLE)],
    ]
    first = out[0][0]
    assert first["annotatorType"] == "assertion"
    meta = dict(first["metadata"])
    assert set(meta) == {"chunk", "sentence", "confidence", "trigger"}
    assert meta["chunk"] == "0" and meta["sentence"] == "0" and meta["confidence"] == "1.0000"
    assert int(meta["trigger"]) >= 0 and dict(out[0][1]["metadata"])["trigger"] == "-1"
    # No note text in any metadata value: only numbers.
    values = [v for row in out for a in row for _, v in a["metadata"]]
    assert all(v.replace(".", "").lstrip("-").isdigit() for v in values)


def test_chunk_index_and_sentence_come_from_position_and_tokens_when_missing():
    texts = ["Cough. No fever or rash."]
    _, sentences, tokens = text_columns(texts)
    spans = [[(0, 4), (10, 14), (19, 22)]]
    out = rows_of(
        assert_chunks(sentences, tokens, chunks_from_spans(texts, spans), bundled_rules())
    )
    meta = [dict(a["metadata"]) for a in out[0]]
    assert [m["chunk"] for m in meta] == ["0", "1", "2"]
    assert [m["sentence"] for m in meta] == ["0", "1", "1"]
    assert [a["result"] for a in out[0]] == [PRESENT, ABSENT, ABSENT]


def test_odd_chunks_never_crash():
    text = "No fever. Rash.   "
    spans = [
        [
            (3, 11),  # spans two sentences: gets the first one's trigger
            (15, 17),  # only whitespace: no token, present
            (12, 12),  # inside a token
            (8, 8),  # the period
        ]
    ]
    out = assert_spans([text], spans, bundled_rules())[0]
    assert [label for *_, label in out] == [ABSENT, PRESENT, PRESENT, ABSENT]


def test_tokens_outside_every_sentence_and_unsorted_tokens():
    text = "No fever today"
    *_, tokens = text_columns([text])
    # No sentence annotations at all: the row's tokens form one sentence.
    no_sentences = build_annotations("document", np.array([0, 0]), [], [], [], {"sentence": []})
    chunks = chunks_from_spans([text], [[(3, 7)]])
    out = rows_of(assert_chunks(no_sentences, tokens, chunks, bundled_rules()))
    assert out[0][0]["result"] == ABSENT
    # Tokens in reverse order give the same answer.
    flat = AnnotationBatch(tokens).annotations
    reverse = pa.ListArray.from_arrays(
        pa.array([0, len(flat)], pa.int32()), flat.take(pa.array(range(len(flat) - 1, -1, -1)))
    )
    _, sentences, _ = text_columns([text])
    out = rows_of(assert_chunks(sentences, reverse, chunks, bundled_rules()))
    assert out[0][0]["result"] == ABSENT


def test_null_and_empty_rows_give_empty_lists():
    texts: list[str | None] = [None, "", "No fever."]
    _, sentences, tokens = text_columns(texts)
    null_chunks = pa.array([None, [], None], type=chunks_from_spans(["a"], [[]]).type)
    out = assert_chunks(sentences, tokens, null_chunks, bundled_rules())
    assert out.to_pylist() == [[], [], []]
    with pytest.raises(ValueError, match="rows"):
        assert_chunks(sentences, tokens, chunks_from_spans(["a"], [[]]), bundled_rules())


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.lists(st.tuples(st.integers(0, 400), st.integers(0, 30)), max_size=6))
def test_any_text_and_spans_give_one_assertion_per_chunk(text, raw_spans):
    spans = [(b, b + n) for b, n in raw_spans]
    out = assert_spans([text], [spans], bundled_rules())[0]
    assert [(b, e) for b, e, _ in out] == spans
    assert all(
        label in (PRESENT, ABSENT, POSSIBLE, HYPOTHETICAL, CONDITIONAL, SOMEONE_ELSE)
        for *_, label in out
    )
