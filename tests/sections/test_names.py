"""The section name table: named rules, well-formed names, one meaning per header."""

from __future__ import annotations

import dataclasses

import pytest

from sparkner.sections.names import (
    NAME_PATTERN,
    SECTION_NAMES,
    SectionName,
    header_key,
    header_table,
    parse_custom_header,
    snake_case,
)

ASKED_FOR = [
    "history_of_present_illness",
    "past_medical_history",
    "past_surgical_history",
    "medications",
    "allergies",
    "family_history",
    "social_history",
    "review_of_systems",
    "physical_exam",
    "vital_signs",
    "labs",
    "imaging",
    "assessment",
    "plan",
    "assessment_and_plan",
    "procedure",
    "findings",
    "impression",
    "diagnoses",
    "chief_complaint",
    "hospital_course",
    "indications",
    "anesthesia",
]


def test_rules_are_frozen_named_objects():
    assert all(isinstance(s, SectionName) for s in SECTION_NAMES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        SECTION_NAMES[0].name = "other"  # type: ignore[misc]


def test_names_are_snake_case_and_unique():
    names = [s.name for s in SECTION_NAMES]
    assert len(names) == len(set(names))
    assert all(NAME_PATTERN.fullmatch(n) for n in names)
    assert set(ASKED_FOR) <= set(names)


def test_every_header_means_one_section():
    keys = [header_key(h) for s in SECTION_NAMES for h in s.headers]
    assert len(keys) == len(set(keys))
    assert all(len(k) > 1 for k in keys)  # no "P:" (a pulse)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("HISTORY OF PRESENT ILLNESS", "history_of_present_illness"),
        ("HPI", "history_of_present_illness"),
        ("Hx", "history_of_present_illness"),
        ("PMH", "past_medical_history"),
        ("Past  Medical\tHistory", "past_medical_history"),
        ("MEDS", "medications"),
        ("ALLERGIES", "allergies"),
        ("PREOPERATIVE DIAGNOSIS", "preoperative_diagnosis"),
        ("POSTOPERATIVE DIAGNOSES", "postoperative_diagnosis"),
        ("A/P", "assessment_and_plan"),
    ],
)
def test_variants(header, name):
    assert header_table()[header_key(header)] == name


def test_custom_headers_parse_and_refuse():
    assert parse_custom_header(" HEENT = heent ") == SectionName("heent", ("HEENT",))
    assert parse_custom_header("A=B=c") == SectionName("c", ("A=B",))
    for bad in ["", "HEENT", "=heent", "HEENT=", "HEENT=Heent", "HEENT=1x", "  =x"]:
        assert parse_custom_header(bad) is None, bad


def test_snake_case():
    assert snake_case("EXTREMITIES") == "extremities"
    assert snake_case("X-RAYS / CT") == "x_rays_ct"
    assert snake_case("()") == ""
