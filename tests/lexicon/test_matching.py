"""The lexicon matcher: greedy longest matches over token batches, offsets and features."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from tests_support import text_columns

from sparkner.core.annotation import LEXICON, TOKEN, build_annotations
from sparkner.lexicon.matcher import (
    Lexicon,
    LexiconError,
    build_lexicon,
    lexicon_from_terms,
    match_lexicon,
    match_words,
    token_class_labels,
    token_classes,
)

LEXICON_TERMS = {
    "PROBLEM": ["chest pain", "pain radiating to the arm", "Sjögren syndrome", "pain"],
    "TEST": ["chest", "chest x-ray"],
    "TREATMENT": ["metformin", "Crohn's"],
}


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return build_lexicon(LEXICON_TERMS)


def chunks(texts: list[str | None], lexicon: Lexicon) -> list[list[tuple[str, str]]]:
    documents, _, tokens = text_columns(texts)
    out = match_lexicon(documents, tokens, lexicon)
    return [
        [(a["result"], dict(a["metadata"])["entity"]) for a in row or []] for row in out.to_pylist()
    ]


def test_longest_match_wins_then_skips_past_it(lexicon):
    # "chest pain" beats "chest"; its "pain" is used up, so "pain radiating ..." cannot start.
    assert chunks(["chest pain radiating to the arm"], lexicon) == [[("chest pain", "PROBLEM")]]
    assert chunks(["chest x-ray and chest"], lexicon) == [
        [("chest x-ray", "TEST"), ("chest", "TEST")]
    ]
    assert chunks(["severe pain radiating to the arm"], lexicon) == [
        [("pain radiating to the arm", "PROBLEM")]
    ]
    assert chunks(["pain radiating to the leg"], lexicon) == [[("pain", "PROBLEM")]]


def test_case_insensitive(lexicon):
    assert chunks(["CHEST PAIN", "Chest Pain on METFORMIN"], lexicon) == [
        [("CHEST PAIN", "PROBLEM")],
        [("Chest Pain", "PROBLEM"), ("METFORMIN", "TREATMENT")],
    ]


def test_unicode_forms_match_and_offsets_stay_those_of_the_text(lexicon):
    texts = [
        "Sjo\u0308gren syndrome",  # decomposed ö
        "SJÖGREN SYNDROME",
        "İİ ｍｅｔｆｏｒｍｉｎ chest pain",  # dotted capital I lower-cases to 2 characters
        "Crohn’s and Crohn's",
    ]
    assert chunks(texts, lexicon) == [
        [("Sjo\u0308gren syndrome", "PROBLEM")],
        [("SJÖGREN SYNDROME", "PROBLEM")],
        [("ｍｅｔｆｏｒｍｉｎ", "TREATMENT"), ("chest pain", "PROBLEM")],
        [("Crohn’s", "TREATMENT"), ("Crohn's", "TREATMENT")],
    ]


def test_result_is_the_text_slice_and_metadata(lexicon):
    texts = ["Pt has  chest\n pain. On metformin.\nChest x-ray normal, chest  pain gone."]
    documents, _, tokens = text_columns(texts)
    out = match_lexicon(documents, tokens, lexicon)
    (row,) = out.to_pylist()
    assert [a["result"] for a in row] == ["chest\n pain", "metformin", "Chest x-ray", "chest  pain"]
    for i, a in enumerate(row):
        assert a["annotatorType"] == LEXICON
        assert texts[0][a["begin"] : a["end"] + 1] == a["result"]
        meta = dict(a["metadata"])
        assert meta["chunk"] == str(i) and set(meta) == {"entity", "sentence", "chunk"}
    assert [dict(a["metadata"])["sentence"] for a in row] == ["0", "1", "2", "2"]


def test_matches_do_not_cross_sentences_or_rows(lexicon):
    assert chunks(["He felt chest. Pain was severe."], lexicon) == [
        [("chest", "TEST"), ("Pain", "PROBLEM")]
    ]
    # Two rows: "chest" ends one, "pain" starts the next.
    assert chunks(["chest", "pain"], lexicon) == [[("chest", "TEST")], [("pain", "PROBLEM")]]


def test_unknown_token_breaks_a_match(lexicon):
    assert chunks(["chest xyzzy pain"], lexicon) == [[("chest", "TEST"), ("pain", "PROBLEM")]]


def test_null_and_empty_rows(lexicon):
    assert chunks([None, "", "   ", "chest pain", None], lexicon) == [
        [],
        [],
        [],
        [("chest pain", "PROBLEM")],
        [],
    ]
    documents, _, tokens = text_columns([None, "x"])
    out = match_lexicon(documents, tokens, lexicon)
    assert out.to_pylist()[0] == [] and len(out) == 2
    empty = pa.array([], type=tokens.type)
    assert len(match_lexicon(empty, empty, lexicon)) == 0
    assert token_classes(empty, lexicon).shape == (0,)


def test_empty_lexicon_matches_nothing():
    lexicon = build_lexicon({"PROBLEM": []})
    documents, _, tokens = text_columns(["chest pain"])
    assert match_lexicon(documents, tokens, lexicon).to_pylist() == [[]]
    assert (token_classes(tokens, lexicon) == 0).all()
    assert len(lexicon) == 0 and lexicon.counts == {"PROBLEM": 0}


def test_any_metadata_and_missing_documents_never_crash(lexicon):
    # Tokens built by hand: no document text, odd sentence values, a null result.
    tokens = build_annotations(
        TOKEN,
        np.array([0, 4, 6]),
        [0, 6, 11, 20, 0, 6],
        [4, 9, 15, 22, 4, 9],
        ["Chest", "pain", "chest", None, "chest", "pain"],
        {"sentence": ["a", "a", "b", "b", "x", "x"]},
    )
    documents = pa.array([None, []], type=tokens.type)
    rows = match_lexicon(documents, tokens, lexicon).to_pylist()
    assert [(a["result"], a["begin"], a["end"]) for a in rows[0]] == [
        ("Chest pain", 0, 9),
        ("chest", 11, 15),
    ]
    assert [a["result"] for a in rows[1]] == ["chest pain"]
    with pytest.raises(ValueError, match="rows"):
        match_lexicon(documents[:1], tokens, lexicon)


def test_token_classes_agree_with_chunks(lexicon):
    texts = ["Chest pain and chest x-ray. Metformin for pain radiating to the arm.", None, "pain"]
    documents, _, tokens = text_columns(texts)
    codes = token_classes(tokens, lexicon)
    flat = tokens.flatten().to_pylist()
    assert codes.shape == (len(flat),) and codes.dtype == np.int32
    labels = token_class_labels(lexicon)
    assert labels[:3] == ["O", "B-PROBLEM", "I-PROBLEM"]
    spans = []
    for i, code in enumerate(codes.tolist()):
        if labels[code].startswith("B-"):
            spans.append([flat[i]["begin"], flat[i]["end"], labels[code][2:]])
        elif labels[code].startswith("I-"):
            assert spans and spans[-1][2] == labels[code][2:]
            spans[-1][1] = flat[i]["end"]
    chunks_ = [
        [a["begin"], a["end"], dict(a["metadata"])["entity"]]
        for row in match_lexicon(documents, tokens, lexicon).to_pylist()
        for a in row
    ]
    assert spans == chunks_ and len(spans) == 5


def naive_matches(words: list[str], terms: dict[tuple[str, ...], int]) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(words):
        fits = range(1, min(8, len(words) - i) + 1)
        best = max((n for n in fits if tuple(words[i : i + n]) in terms), default=0)
        if best:
            out.append((i, i + best))
            i += best
        else:
            i += 1
    return out


def test_agrees_with_a_naive_greedy_matcher():
    rng = random.Random(7)
    vocab = ["a", "b", "c", "d", "e"]
    terms = {}
    for _ in range(40):
        term = tuple(rng.choice(vocab) for _ in range(rng.randint(1, 5)))
        terms.setdefault(term, rng.randint(0, 1))
    lexicon = lexicon_from_terms(["X", "Y"], terms.items())
    for _ in range(200):
        words = [rng.choice([*vocab, "zz"]) for _ in range(rng.randint(0, 30))]
        got = match_words(words, lexicon)
        assert [(s, e) for s, e, _ in got] == naive_matches(words, terms)
        assert all(["X", "Y"][terms[tuple(words[s:e])]] == c for s, e, c in got)


def test_invalid_lexicons_are_refused():
    with pytest.raises(LexiconError, match="twice"):
        lexicon_from_terms(["X"], [(("a", "b"), 0), (("a", "b"), 0)])
    with pytest.raises(LexiconError, match="class index"):
        lexicon_from_terms(["X"], [(("a",), 3)])
    with pytest.raises(LexiconError, match="distinct"):
        build_lexicon({"": ["a"]})
    # Too-long terms are skipped when built from text, refused when given as tokens.
    assert len(build_lexicon({"X": [" ".join("abcdefghi")]})) == 0
    with pytest.raises(LexiconError, match="tokens"):
        lexicon_from_terms(["X"], [(tuple("abcdefghi"), 0)])


def test_first_class_wins_for_a_term_listed_twice():
    lexicon = build_lexicon({"TEST": ["Biopsy"], "TREATMENT": ["biopsy", "surgery"]})
    assert lexicon.counts == {"TEST": 1, "TREATMENT": 1}
    assert match_words(["BIOPSY"], lexicon) == [(0, 1, "TEST")]
