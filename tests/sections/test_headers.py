"""Section headers without Spark: header styles, spans, odd input, real MTSamples notes."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest
from hypothesis import given, settings
from tests_support import TEXTS, text_columns

from sparkner.core.annotation import SECTION, AnnotationBatch
from sparkner.sections.headers import SectionRules, detect_sections, split_sections
from sparkner.sections.names import SectionName

RULES = SectionRules()
UNKNOWN = SectionRules(include_unknown=True)


def sections(text: str, rules: SectionRules = RULES) -> list[tuple[str, str, str]]:
    """(name, header, section text) of each section."""
    return [
        (s.header.name, text[s.header.begin : s.header.end], text[s.begin : s.end])
        for s in split_sections(text, rules)
    ]


def check(text: str, rules: SectionRules) -> None:
    """What every split guarantees, whatever the text."""
    previous_end = 0
    for s in split_sections(text, rules):
        assert previous_end <= s.begin == s.header.begin < s.header.end <= s.end <= len(text)
        assert not text[s.end - 1].isspace() and text[s.end - 1] != ","
        assert s.header.name
        previous_end = s.end


STYLES = [
    pytest.param(
        "HISTORY OF PRESENT ILLNESS: The patient is a 45-year-old male.\nHx: none.",
        [
            (
                "history_of_present_illness",
                "HISTORY OF PRESENT ILLNESS:",
                "HISTORY OF PRESENT ILLNESS: The patient is a 45-year-old male.",
            ),
            ("history_of_present_illness", "Hx:", "Hx: none."),
        ],
        id="line-start-colon-any-case",
    ),
    pytest.param(
        "He is stable.,ALLERGIES:,  NKDA.,MEDICATIONS:,  None.",
        [
            ("allergies", "ALLERGIES:", "ALLERGIES:,  NKDA."),
            ("medications", "MEDICATIONS:", "MEDICATIONS:,  None."),
        ],
        id="mtsamples-comma",
    ),
    pytest.param(
        "Vitals are stable.,PHYSICAL EXAMINATION,VITAL SIGNS: BP 120/80, P: 72.",
        [
            ("physical_exam", "PHYSICAL EXAMINATION", "PHYSICAL EXAMINATION"),
            ("vital_signs", "VITAL SIGNS:", "VITAL SIGNS: BP 120/80, P: 72."),
        ],
        id="capitals-without-colon-and-no-pulse-header",
    ),
    pytest.param(
        "ASSESSMENT AND PLAN\n\nRest.  Plan: fluids.\n\n",
        [
            ("assessment_and_plan", "ASSESSMENT AND PLAN", "ASSESSMENT AND PLAN\n\nRest."),
            ("plan", "Plan:", "Plan: fluids."),
        ],
        id="line-without-colon-and-after-sentence",
    ),
    pytest.param(
        "PREOPERATIVE DIAGNOSIS:  Stenosis.\r\nPOSTOPERATIVE DIAGNOSES:  Same.\r\nA/P:  Home.",
        [
            (
                "preoperative_diagnosis",
                "PREOPERATIVE DIAGNOSIS:",
                "PREOPERATIVE DIAGNOSIS:  Stenosis.",
            ),
            (
                "postoperative_diagnosis",
                "POSTOPERATIVE DIAGNOSES:",
                "POSTOPERATIVE DIAGNOSES:  Same.",
            ),
            ("assessment_and_plan", "A/P:", "A/P:  Home."),
        ],
        id="crlf",
    ),
]


@pytest.mark.parametrize(("text", "expected"), STYLES)
def test_header_styles(text, expected):
    assert sections(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The patient has allergies: penicillin.",  # a header needs a boundary before it
        "Seen today, allergies: none.",  # inline headers start with a capital
        "Given 5 CC, then rest.",  # short phrases are no line headers
        "ALLERGIES TO CATS AND DOGS",  # not a known phrase
        "Time 10:30.",
        "",
    ],
)
def test_not_headers(text):
    assert sections(text) == []


def test_preamble_belongs_to_no_section():
    text = "Dictated by Dr. Smith.\nPLAN: rest."
    assert sections(text) == [("plan", "PLAN:", "PLAN: rest.")]


def test_unknown_capital_headers_stay_inside_unless_asked():
    text = "PHYSICAL EXAMINATION: Well.\nHEENT: Normal.\nEXTREMITIES: No edema.\nNeck: soft."
    assert sections(text) == [("physical_exam", "PHYSICAL EXAMINATION:", text)]
    assert sections(text, UNKNOWN) == [
        ("physical_exam", "PHYSICAL EXAMINATION:", "PHYSICAL EXAMINATION: Well."),
        ("heent", "HEENT:", "HEENT: Normal."),
        ("extremities", "EXTREMITIES:", "EXTREMITIES: No edema.\nNeck: soft."),
    ]


def test_custom_headers_win():
    rules = SectionRules(custom=(SectionName("heent", ("HEENT",)), SectionName("x", ("PLAN",))))
    assert sections("HEENT: ok.,PLAN: go.", rules) == [
        ("heent", "HEENT:", "HEENT: ok."),
        ("x", "PLAN:", "PLAN: go."),
    ]


def test_batch_offsets_metadata_and_odd_rows():
    texts = ["Intro.\nHPI: cough.\nPLAN: rest.\n", None, "", "no headers here"]
    documents = text_columns(texts)[0]
    out = detect_sections(documents, RULES)
    assert len(out) == 4
    rows = out.to_pylist()
    assert [len(r) for r in rows] == [2, 0, 0, 0]
    first, second = rows[0]
    text = texts[0]
    assert first["annotatorType"] == SECTION
    assert first["result"] == "history_of_present_illness"
    assert text[first["begin"] : first["end"] + 1] == "HPI: cough."
    meta = dict(first["metadata"])
    assert meta == {
        "section": "history_of_present_illness",
        "header": "HPI:",
        "header_begin": "7",
        "header_end": "10",
    }
    assert text[int(meta["header_begin"]) : int(meta["header_end"]) + 1] == meta["header"]
    assert text[second["begin"] : second["end"] + 1] == "PLAN: rest."


def test_batch_of_null_rows_and_no_rows():
    empty = pa.array([None, []], pa.list_(text_columns(["x"])[0].type.value_field))
    assert detect_sections(empty, RULES).to_pylist() == [[], []]
    assert detect_sections(text_columns([])[0], RULES).to_pylist() == []


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_any_text(text):
    check(text, RULES)
    check(text, UNKNOWN)
    out = AnnotationBatch(detect_sections(text_columns([text])[0], UNKNOWN))
    for begin, end in zip(out.begin.tolist(), out.end.tolist(), strict=True):
        assert 0 <= begin <= end < len(text)


@pytest.mark.parametrize(
    "unit", ["AB ", "ABC DEF: ", ",A ", "PLAN ", ",PLAN:", ". Hx: ", "x" * 50 + ",", "\n"]
)
def test_long_repeated_patterns_are_fast(unit):
    text = unit * (300_000 // len(unit))
    started = time.perf_counter()
    check(text, UNKNOWN)
    assert time.perf_counter() - started < 10


# -- real notes ----------------------------------------------------------------------------

REAL_EXCERPTS = [
    (
        "excellent intimal appearance.,PHYSICAL EXAMINATION,VITAL SIGNS:  Blood pressure 160/88, "
        "temperature 98.6, pulse 83, respirations 30.  He is saturating at 96% on 4 L "
        "nonrebreather.,GENERAL:  The patient",
        [
            ("physical_exam", "PHYSICAL EXAMINATION", "PHYSICAL EXAMINATION"),
            (
                "vital_signs",
                "VITAL SIGNS:",
                "VITAL SIGNS:  Blood pressure 160/88, temperature 98.6, pulse 83, respirations "
                "30.  He is saturating at 96% on 4 L nonrebreather.,GENERAL:  The patient",
            ),
        ],
    ),
    (
        "MEDICATIONS: , Crestor 20 mg p.o. daily, hydrochlorothiazide 20 mg p.o. daily, "
        "Veramist spray 27.5 mcg daily, Restasis twice a day and ibuprofen two to three times a "
        "day.,ALLERGIES",
        [
            (
                "medications",
                "MEDICATIONS:",
                "MEDICATIONS: , Crestor 20 mg p.o. daily, hydrochlorothiazide 20 mg p.o. daily, "
                "Veramist spray 27.5 mcg daily, Restasis twice a day and ibuprofen two to three "
                "times a day.",
            ),
            ("allergies", "ALLERGIES", "ALLERGIES"),
        ],
    ),
    (
        " use or head trauma.,PMH:, Migraine Headache.,FHX: , Unremarkable.,SHX: ,Divorced. "
        "Lives with boyfriend. ",
        [
            ("past_medical_history", "PMH:", "PMH:, Migraine Headache."),
            ("family_history", "FHX:", "FHX: , Unremarkable."),
            ("social_history", "SHX:", "SHX: ,Divorced. Lives with boyfriend."),
        ],
    ),
    (
        "d bibasilar crackles,A/P: Respiratory arrest, pneumonia, COPD exacerbation,Replete K+",
        [
            (
                "assessment_and_plan",
                "A/P:",
                "A/P: Respiratory arrest, pneumonia, COPD exacerbation,Replete K+",
            ),
        ],
    ),
]


@pytest.mark.parametrize(("excerpt", "expected"), REAL_EXCERPTS)
def test_real_note_excerpts(mtsamples_notes, excerpt, expected):
    assert any(excerpt in note for note in mtsamples_notes), "excerpt is not from MTSamples"
    assert sections(excerpt) == expected


@pytest.mark.slow
def test_every_real_note(mtsamples_notes):
    found = 0
    for note in mtsamples_notes:
        check(note, UNKNOWN)
        found += bool(split_sections(note, RULES))
    assert found > 0.9 * len(mtsamples_notes)
