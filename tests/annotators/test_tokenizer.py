"""Tokenizer without Spark: ``tokenize_text`` rules and settings, and the whole text pipeline's
offsets (documents, sentences, tokens) on odd, generated, huge and real texts."""

from __future__ import annotations

import random
import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_support import TEXTS, assert_offsets_valid

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.annotation import AnnotationBatch
from sparkner.text.tokenizing import TokenRules, tokenize_text


def tokens(text: str, **params) -> list[str]:
    """Tokens of ``text`` with the stage's settings (set through its checked setters)."""
    return [text[b:e] for b, e in tokenize_text(text, Tokenizer(**params).rules())]


def pipeline(**params) -> LightPipeline:
    return LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer(**params)])


def check_annotations(text: str, result: dict[str, list]) -> None:
    """The offset invariants of a ``fullAnnotate`` result, for any text.

    Every annotation is ``text[begin:end + 1]``; sentences are in order and lie in the
    document; each token lies in the sentence its metadata names, in order, holds no
    whitespace, and together the tokens of a sentence are its characters less whitespace.
    """
    docs, sents, toks = result["document"], result["sentence"], result["token"]
    assert_offsets_valid(text, docs + sents + toks)
    if not text.strip():
        assert docs == sents == toks == []
        return
    assert [(d.begin, d.end) for d in docs] == [(0, len(text) - 1)]
    previous_end = -1
    for i, s in enumerate(sents):
        assert s.begin > previous_end and s.metadata["sentence"] == str(i)
        assert not s.result[0].isspace() and not s.result[-1].isspace(), s
        previous_end = s.end
    by_sentence: list[list] = [[] for _ in sents]
    previous_end = -1
    for t in toks:
        s = sents[int(t.metadata["sentence"])]
        assert s.begin <= t.begin <= t.end <= s.end, (t, s)
        assert t.begin > previous_end, t
        assert not any(c.isspace() for c in t.result), t
        previous_end = t.end
        by_sentence[int(t.metadata["sentence"])].append(t.result)
    for s, parts in zip(sents, by_sentence, strict=True):
        assert "".join(parts) == "".join(s.result.split()), s


# -- clinical rules --------------------------------------------------------------------------

CLINICAL_TOKENS = [
    pytest.param(
        "Patient denies chest pain.", ["Patient", "denies", "chest", "pain", "."], id="plain"
    ),
    pytest.param(
        "Seen by Dr. Smith vs. Jones, e.g. today; approx. 5 cm etc. No. 2 pt.",
        [
            "Seen",
            "by",
            "Dr.",
            "Smith",
            "vs.",
            "Jones",
            ",",
            "e.g.",
            "today",
            ";",
            "approx.",
            "5",
            "cm",
            "etc.",
            "No.",
            "2",
            "pt.",
        ],
        id="abbreviations",
    ),
    pytest.param(
        "Aspirin 81 mg p.o. q.d. and b.i.d. at 10 a.m.",
        ["Aspirin", "81", "mg", "p.o.", "q.d.", "and", "b.i.d.", "at", "10", "a.m."],
        id="dotted-dosing",
    ),
    pytest.param(
        "Take 2.5 mg, then 10mg, .5 mg and 1,000 units; 27.5mcg",
        [
            "Take",
            "2.5",
            "mg",
            ",",
            "then",
            "10",
            "mg",
            ",",
            ".5",
            "mg",
            "and",
            "1,000",
            "units",
            ";",
            "27.5",
            "mcg",
        ],
        id="decimals-and-doses",
    ),
    pytest.param(
        "BP 120/80, HR 72, temp 98.6 F, O2 sat 97% on RA.",
        [
            "BP",
            "120/80",
            ",",
            "HR",
            "72",
            ",",
            "temp",
            "98.6",
            "F",
            ",",
            "O2",
            "sat",
            "97",
            "%",
            "on",
            "RA",
            ".",
        ],
        id="vitals",
    ),
    pytest.param(
        "Seen 11/24/2026 at 10:30, on the 2nd visit.",
        ["Seen", "11/24/2026", "at", "10:30", ",", "on", "the", "2nd", "visit", "."],
        id="dates-times-ordinals",
    ),
    pytest.param(
        "A 71-year-old with non-small-cell cancer, x-ray and 5-FU; 3-4 times.",
        [
            "A",
            "71-year-old",
            "with",
            "non-small-cell",
            "cancer",
            ",",
            "x-ray",
            "and",
            "5-FU",
            ";",
            "3-4",
            "times",
            ".",
        ],
        id="hyphenated",
    ),
    pytest.param(
        "Pain (left) and/or L4/L5 - the patient's [see] {note}",
        [
            "Pain",
            "(",
            "left",
            ")",
            "and",
            "/",
            "or",
            "L4",
            "/",
            "L5",
            "-",
            "the",
            "patient",
            "'s",
            "[",
            "see",
            "]",
            "{",
            "note",
            "}",
        ],
        id="brackets-slashes-clitics",
    ),
    pytest.param(
        'He said "wait..." -5 +3 ~5 cm #2 @ home',
        [
            "He",
            "said",
            '"',
            "wait",
            "...",
            '"',
            "-",
            "5",
            "+",
            "3",
            "~",
            "5",
            "cm",
            "#",
            "2",
            "@",
            "home",
        ],
        id="symbols",
    ),
    pytest.param(
        "Roux-en-Y bypass.  He is 5'9\".",
        ["Roux-en-Y", "bypass", ".", "He", "is", "5", "'", "9", '"', "."],
        id="real-note-height",
    ),
    pytest.param(
        "e\u0301te\u0301 हिन्दी 胸痛 ألم 😀 ١٢٣ mg",
        ["e\u0301te\u0301", "हिन्दी", "胸痛", "ألم", "😀", "١٢٣", "mg"],
        id="combining-marks-and-scripts",
    ),
    pytest.param("a\x00b\u200bc \r\n d", ["a", "\x00", "b", "\u200b", "c", "d"], id="controls"),
]


@pytest.mark.parametrize(("text", "expected"), CLINICAL_TOKENS)
def test_clinical_token_rules(text, expected):
    assert tokens(text) == expected


# -- settings ------------------------------------------------------------------------------


def test_exceptions_are_kept_whole_case_sensitively_by_default():
    text = "COVID-19 PCR negative; covid-19 pcr; St. Jude and C. diff."
    params = {"exceptions": ["COVID-19 PCR", "St. Jude", "C. diff"]}
    assert tokens(text, **params) == [
        "COVID-19 PCR",
        "negative",
        ";",
        "covid-19",
        "pcr",
        ";",
        "St. Jude",
        "and",
        "C. diff",
        ".",
    ]


def test_exceptions_without_case():
    text = "covid-19 pcr and Covid-19 Pcr"
    params = {"exceptions": ["COVID-19 PCR"], "caseSensitiveExceptions": False}
    assert tokens(text, **params) == ["covid-19 pcr", "and", "Covid-19 Pcr"]


def test_an_exception_matches_whole_words_only():
    # "PCRs" stays one word rather than "PCR" + "s"; the longest exception wins.
    text = "PCRs PCR, 10mg/kg x PCR panel"
    params = {"exceptions": ["PCR", "mg/kg", "PCR panel"]}
    assert tokens(text, **params) == ["PCRs", "PCR", ",", "10", "mg/kg", "x", "PCR panel"]


def test_add_exception_appends():
    stage = Tokenizer().addException("St. Jude").addException("b/l")
    assert stage.rules().exceptions == ("St. Jude", "b/l")
    text = "b/l St. Jude"
    assert [text[b:e] for b, e in tokenize_text(text, stage.rules())] == ["b/l", "St. Jude"]


@pytest.mark.parametrize(
    ("split", "text", "expected"),
    [
        (["-"], "x-ray 71-year-old", ["x", "-", "ray", "71", "-", "year", "-", "old"]),
        (["/"], "120/80 and/or", ["120", "/", "80", "and", "/", "or"]),
        ([","], "1,000", ["1", ",", "000"]),
        (
            ["."],
            "2.5 b.i.d. Dr. wait...",
            ["2", ".", "5", "b", ".", "i", ".", "d", ".", "Dr", ".", "wait", ".", ".", "."],
        ),
        (["-", "/"], "x-ray 10/20", ["x", "-", "ray", "10", "/", "20"]),
    ],
)
def test_split_chars(split, text, expected):
    assert tokens(text, splitChars=split) == expected


def test_add_split_chars():
    assert tokens("x-ray 10:30", splitChars=None) == ["x-ray", "10:30"]
    stage = Tokenizer().addSplitChars("-").addSplitChars(":")
    text = "x-ray 10:30"
    assert [text[b:e] for b, e in tokenize_text(text, stage.rules())] == [
        "x",
        "-",
        "ray",
        "10",
        ":",
        "30",
    ]


def test_min_and_max_length():
    text = "a bb ccc dddd ."
    assert tokens(text, minLength=2) == ["bb", "ccc", "dddd"]
    assert tokens(text, maxLength=3) == ["a", "bb", "ccc", "."]
    assert tokens(text, minLength=2, maxLength=3) == ["bb", "ccc"]


def test_length_filter_keeps_sentence_numbers_in_the_pipeline():
    result = pipeline(minLength=3).fullAnnotate("Chest pain. No fever.")[0]
    assert [(t.result, t.metadata["sentence"]) for t in result["token"]] == [
        ("Chest", "0"),
        ("pain", "0"),
        ("fever", "1"),
    ]


def test_own_abbreviations_replace_the_defaults():
    assert tokens("Adm. Jones and Dr. Smith", abbreviations=["Adm."]) == [
        "Adm.",
        "Jones",
        "and",
        "Dr",
        ".",
        "Smith",
    ]


def test_token_offsets_and_sentence_numbers():
    result = pipeline().fullAnnotate("Chest pain.  No fever.")[0]
    assert [(t.begin, t.end, t.result, t.metadata["sentence"]) for t in result["token"]] == [
        (0, 4, "Chest", "0"),
        (6, 9, "pain", "0"),
        (10, 10, ".", "0"),
        (13, 14, "No", "1"),
        (16, 20, "fever", "1"),
        (21, 21, ".", "1"),
    ]
    assert all(t.annotatorType == "token" for t in result["token"])


@pytest.mark.parametrize(
    ("setter", "value", "name"),
    [
        ("setMinLength", -1, "minLength"),
        ("setMaxLength", -2, "maxLength"),
        ("setExceptions", ["ok", ""], "exceptions"),
        ("addException", "", "exceptions"),
    ],
)
def test_invalid_settings_raise_naming_the_setting(setter, value, name):
    with pytest.raises(ValueError, match=name):
        getattr(Tokenizer(), setter)(value)


# -- bad input -----------------------------------------------------------------------------


def test_blank_rows_give_empty_lists_and_are_kept():
    rows = pipeline().annotate([None, "", "  ", "\r\n\u2028", "Chest pain."])
    assert len(rows) == 5
    for row in rows[:4]:
        assert row == {"document": [], "sentence": [], "token": []}
    assert rows[4]["token"] == ["Chest", "pain", "."]
    full = pipeline().fullAnnotate([None, "x", ""])
    assert [len(r["token"]) for r in full] == [0, 1, 0]


ODD_TEXTS = [
    "Pt 😀 has 胸痛 and ألم. Next\u2028line\r\nhere\x00 and e\u0301 combined.",
    "\u200f\u202eRTL text. שלום עולם. مرحبا.\u202c Done.",
    "NUL\x00\x00. Controls \x01\x02\x1b\x7f\x1c\x1d\x1e\x1f\x85 end.",
    "\r\n\r\n\rOnly\rcarriage returns\r\r",
    "👨\u200d👩\u200d👧.\ufeff\ufffd.\U0010ffff. \U0001d54f \u0301\u0301 start-mark.",
    "HISTORY:,  Chest pain.,MEDICATIONS:, 1. Aspirin 81 mg p.o. q.d.  2. Lisinopril.",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_any_unicode_keeps_offsets(text):
    check_annotations(text, pipeline().fullAnnotate(text)[0])


# -- properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_pipeline_offsets_hold_for_any_text(text):
    check_annotations(text, pipeline().fullAnnotate(text)[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXTS), max_size=6))
def test_pipeline_offsets_hold_for_any_batch(texts):
    results = pipeline().fullAnnotate(texts)
    assert len(results) == len(texts)
    for text, result in zip(texts, results, strict=True):
        check_annotations(text or "", result)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_tokens_cover_every_non_space_character(text):
    spans = tokenize_text(text)
    assert all(b < e for b, e in spans)
    assert all(e <= b2 for (_, e), (b2, _) in pairwise(spans))
    assert "".join(text[b:e] for b, e in spans) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.lists(st.sampled_from(list("-./,:")), min_size=1, max_size=3, unique=True))
def test_split_chars_never_stay_inside_a_token(text, split):
    for b, e in tokenize_text(text, TokenRules(split_chars=tuple(split))):
        token = text[b:e]
        assert token in split or not any(c in token for c in split), token


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.integers(0, 6), st.integers(0, 10))
def test_length_limits_only_filter(text, min_length, max_length):
    every = tokenize_text(text)
    kept = tokenize_text(text, TokenRules(min_length=min_length, max_length=max_length))
    assert kept == [
        (b, e) for b, e in every if e - b >= min_length and (max_length == 0 or e - b <= max_length)
    ]


# -- size ----------------------------------------------------------------------------------

NOTE = (
    "HISTORY OF PRESENT ILLNESS:, The patient is a 71-year-old male seen by Dr. Smith. "
    "He takes aspirin 81 mg p.o. q.d. and lisinopril 10mg b.i.d. Follow up in 2 weeks.,"
    "PHYSICAL EXAMINATION,VITAL SIGNS: BP 120/80, temp 98.6 F, O2 sat 97%.\n"
    "MEDICATIONS:\n1. Aspirin.\n2. Lisinopril 2.5 mg.\n- Stop x-ray follow-up\n\n"
)


def check_sample(text: str, column, k: int = 2000) -> None:
    """Offsets of a random sample of the annotations in an Arrow annotation column."""
    batch = AnnotationBatch(column)
    rng = random.Random(7)
    picks = rng.sample(range(len(batch)), min(k, len(batch)))
    begins, ends, results = batch.begin, batch.end, batch.result
    for i in picks:
        assert text[begins[i] : ends[i] + 1] == results[i], i


def test_one_megabyte_note():
    copies = 1_000_000 // len(NOTE) + 1
    text = NOTE * copies
    out = pipeline().annotate_batch([text])
    one = pipeline().annotate_batch([NOTE])
    assert len(out["sentence"][0]) == copies * len(one["sentence"][0])
    assert len(out["token"][0]) == copies * len(one["token"][0])
    check_sample(text, out["sentence"])
    check_sample(text, out["token"])
    last = AnnotationBatch(out["token"])
    assert last.end[-1] == len(text) - 3  # "follow-up" ends 2 newlines before the end


@pytest.mark.parametrize("unit", ["x", "-", "1", "e\u0301", "😀", ".", "a'", "1.", "AB:"])
@pytest.mark.slow
def test_one_megabyte_without_whitespace(unit):
    text = unit * (1_000_000 // len(unit))
    out = pipeline().annotate_batch([text])
    assert len(out["document"][0]) == 1
    check_sample(text, out["sentence"])
    check_sample(text, out["token"])
    toks = AnnotationBatch(out["token"])
    # Without whitespace the tokens are the whole text, back to back.
    assert toks.begin[0] == 0 and toks.end[-1] == len(text) - 1
    assert (toks.begin[1:] == toks.end[:-1] + 1).all()


def test_one_megabyte_single_word_is_one_token():
    text = "x" * 1_000_000
    result = pipeline().annotate(text)
    assert result["token"] == [text]


# -- real notes ----------------------------------------------------------------------------

REAL_EXCERPTS = [
    (
        "Crestor 20 mg p.o. daily, hydrochlorothiazide 20 mg p.o. daily, Veramist spray 27.5 mcg",
        [
            "Crestor",
            "20",
            "mg",
            "p.o.",
            "daily",
            ",",
            "hydrochlorothiazide",
            "20",
            "mg",
            "p.o.",
            "daily",
            ",",
            "Veramist",
            "spray",
            "27.5",
            "mcg",
        ],
    ),
    (
        "Blood pressure 160/88, temperature 98.6, pulse 83, respirations 30.  He is saturating "
        "at 96% on 4 L nonrebreather.",
        [
            "Blood",
            "pressure",
            "160/88",
            ",",
            "temperature",
            "98.6",
            ",",
            "pulse",
            "83",
            ",",
            "respirations",
            "30",
            ".",
            "He",
            "is",
            "saturating",
            "at",
            "96",
            "%",
            "on",
            "4",
            "L",
            "nonrebreather",
            ".",
        ],
    ),
    (
        "laparoscopic Roux-en-Y gastric bypass.  He will need to get a letter of approval from "
        "Dr. XYZ.",
        [
            "laparoscopic",
            "Roux-en-Y",
            "gastric",
            "bypass",
            ".",
            "He",
            "will",
            "need",
            "to",
            "get",
            "a",
            "letter",
            "of",
            "approval",
            "from",
            "Dr.",
            "XYZ",
            ".",
        ],
    ),
]


@pytest.mark.parametrize(("excerpt", "expected"), REAL_EXCERPTS)
def test_real_note_excerpts(mtsamples_notes, excerpt, expected):
    assert any(excerpt in note for note in mtsamples_notes), "excerpt is not from MTSamples"
    assert tokens(excerpt) == expected


@pytest.mark.slow
def test_every_real_note_keeps_offsets(mtsamples_notes):
    out = pipeline().annotate_batch(mtsamples_notes)
    sents, toks = AnnotationBatch(out["sentence"]), AnnotationBatch(out["token"])
    # Every sentence, then every token, is the text at its offsets.
    for batch in (sents, toks):
        rows = batch.row_of().tolist()
        for row, begin, end, result in zip(
            rows, batch.begin.tolist(), batch.end.tolist(), batch.result, strict=True
        ):
            assert mtsamples_notes[row][begin : end + 1] == result, (row, begin, end)
    # Each token lies inside the sentence its metadata names, and holds no whitespace.
    first_sentence = sents.row_offsets[toks.row_of()]
    owner = first_sentence + toks.int_metadata("sentence")
    assert (sents.row_of()[owner] == toks.row_of()).all()
    assert (sents.begin[owner] <= toks.begin).all()
    assert (toks.end <= sents.end[owner]).all()
    assert not any(re.search(r"\s", t) for t in toks.result)
    assert len(toks) > 2_500_000  # all 15 MB were tokenized


SPARK_NLP_DOCSTRING = "I'd like to say we didn't expect that. Jane's boyfriend."
SPARK_NLP_TOKENS = [
    "I'd", "like", "to", "say", "we", "didn't", "expect", "that", ".", "Jane's", "boyfriend", ".",
]  # fmt: skip


def test_spark_nlp_rule_settings_switch_to_spark_nlps_rules():
    """Setting any of Spark NLP's rule settings tokenizes as Spark NLP; the defaults alone
    keep the clinical rules (which split clitics: the bundled tagger was trained so)."""
    assert len(tokens(SPARK_NLP_DOCSTRING)) == 15
    assert tokens(SPARK_NLP_DOCSTRING, splitClitics=False) == SPARK_NLP_TOKENS
    default_chars = Tokenizer().getContextChars()
    assert tokens(SPARK_NLP_DOCSTRING, contextChars=default_chars) == SPARK_NLP_TOKENS
    assert tokens(SPARK_NLP_DOCSTRING, targetPattern="\\S+") == SPARK_NLP_TOKENS
    assert tokens("10mg", targetPattern="\\S+") == ["10mg"]  # Spark NLP keeps it whole
    assert tokens("10mg") == ["10", "mg"]
    prefixed = Tokenizer().setPrefixPattern("\\A([(]*)").setSuffixPattern("([).]*)\\z")
    assert [t for b, e in tokenize_text("(pain).", prefixed.rules()) for t in ["(pain)."[b:e]]] == [
        "(",
        "pain",
        ").",
    ]
    added = Tokenizer().setInfixPatterns(["([a-z]+)"]).addInfixPattern("(\\d+)(x)")
    assert added.getInfixPatterns() == ["(\\d+)(x)", "([a-z]+)"]
    assert ["2x pain"[b:e] for b, e in tokenize_text("2x pain", added.rules())] == [
        "2",
        "x",
        "pain",
    ]


def test_spark_nlp_rule_settings_are_checked():
    with pytest.raises(ValueError, match=r"prefixPattern must begin with \\A"):
        Tokenizer().setPrefixPattern("([(]*)")
    with pytest.raises(ValueError, match=r"suffixPattern must end with \\z"):
        Tokenizer().setSuffixPattern("([)]*)")
    with pytest.raises(ValueError, match="infixPatterns must use regex groups"):
        Tokenizer().setInfixPatterns(["\\d+"])
    with pytest.raises(ValueError, match="contextChars must hold single characters"):
        Tokenizer().setContextChars(["ab"])
    with pytest.raises(ValueError, match="splitPattern holds"):
        Tokenizer().setSplitPattern("(")


def test_split_pattern_and_spark_nlp_rules_survive_save_and_load(spark, tmp_path):
    stage = Tokenizer().setSplitPattern("-|#").setContextChars([".", ","])
    stage.write().save(str(tmp_path / "tokenizer"))
    loaded = Tokenizer.load(str(tmp_path / "tokenizer"))
    assert loaded.rules() == stage.rules()
    assert loaded.uses_spark_nlp_rules() and not Tokenizer().uses_spark_nlp_rules()
    text = "this-text#now, done."
    assert (
        pipeline().annotate(text)["token"]
        != LightPipeline([DocumentAssembler(), SentenceDetector(), loaded]).annotate(text)["token"]
    )
    assert LightPipeline([DocumentAssembler(), SentenceDetector(), loaded]).annotate(text)[
        "token"
    ] == ["this", "text", "now", ",", "done", "."]
