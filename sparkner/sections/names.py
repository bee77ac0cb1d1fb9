"""The section names and the header variants that announce each of them.

Each :class:`SectionName` is one normalised name (``past_medical_history``) with the header
phrases that mean it, written as notes write them ("PAST MEDICAL HISTORY", "PMH"). Headers are
matched case-insensitively after collapsing runs of whitespace (:func:`header_key`), so one
variant covers "PAST MEDICAL HISTORY", "Past Medical History" and "Past medical history".

One-letter SOAP headers ("S:", "O:", "P:") are left out on purpose: "P: 72" is a pulse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class SectionName:
    """A normalised section name and the header phrases that announce it."""

    name: str
    headers: tuple[str, ...]


def header_key(header: str) -> str:
    """The form headers are compared in: case-folded, whitespace collapsed, stripped."""
    return _SPACES.sub(" ", header).strip().casefold()


def snake_case(header: str) -> str:
    """A header's own snake_case name ("EXTREMITIES" -> ``extremities``, "X-RAYS" ->
    ``x_rays``); empty where it has no letters or digits."""
    return _NOT_WORD.sub("_", header.casefold()).strip("_")


SECTION_NAMES: tuple[SectionName, ...] = (
    SectionName(
        "chief_complaint",
        (
            "CHIEF COMPLAINT",
            "CC",
            "REASON FOR VISIT",
            "REASON FOR THE VISIT",
            "REASON FOR CONSULTATION",
            "REASON FOR CONSULT",
            "PRESENTING COMPLAINT",
        ),
    ),
    SectionName(
        "history_of_present_illness",
        (
            "HISTORY OF PRESENT ILLNESS",
            "HISTORY OF THE PRESENT ILLNESS",
            "HPI",
            "PRESENT ILLNESS",
            "HISTORY OF PRESENTING ILLNESS",
            "HX OF PRESENT ILLNESS",
            "HISTORY",
            "HX",
            "INTERIM HISTORY",
            "CURRENT HISTORY",
            "BRIEF HISTORY",
        ),
    ),
    SectionName(
        "past_medical_history",
        (
            "PAST MEDICAL HISTORY",
            "PMH",
            "PMHX",
            "PAST MEDICAL HX",
            "MEDICAL HISTORY",
            "PAST HISTORY",
            "PAST MEDICAL AND SURGICAL HISTORY",
            "PAST MEDICAL/SURGICAL HISTORY",
        ),
    ),
    SectionName(
        "past_surgical_history",
        (
            "PAST SURGICAL HISTORY",
            "PSH",
            "PSHX",
            "PAST SURGICAL HX",
            "SURGICAL HISTORY",
            "PREVIOUS SURGERIES",
            "PRIOR SURGERIES",
        ),
    ),
    SectionName(
        "medications",
        (
            "MEDICATIONS",
            "MEDICATION",
            "MEDS",
            "CURRENT MEDICATIONS",
            "CURRENT MEDS",
            "HOME MEDICATIONS",
            "OUTPATIENT MEDICATIONS",
            "ADMISSION MEDICATIONS",
            "MEDICATIONS ON ADMISSION",
        ),
    ),
    SectionName(
        "discharge_medications",
        ("DISCHARGE MEDICATIONS", "MEDICATIONS ON DISCHARGE", "DISCHARGE MEDS"),
    ),
    SectionName(
        "allergies",
        (
            "ALLERGIES",
            "ALLERGY",
            "DRUG ALLERGIES",
            "ALLERGIES TO MEDICATIONS",
            "MEDICATION ALLERGIES",
        ),
    ),
    SectionName("family_history", ("FAMILY HISTORY", "FH", "FHX", "FAMILY HX")),
    SectionName("social_history", ("SOCIAL HISTORY", "SH", "SHX", "SOCIAL HX", "PERSONAL HISTORY")),
    SectionName(
        "review_of_systems",
        ("REVIEW OF SYSTEMS", "ROS", "REVIEW OF SYSTEM", "SYSTEMS REVIEW"),
    ),
    SectionName(
        "physical_exam",
        (
            "PHYSICAL EXAMINATION",
            "PHYSICAL EXAM",
            "PE",
            "EXAM",
            "EXAMINATION",
            "PHYSICAL EXAMINATION ON ADMISSION",
            "ADMISSION PHYSICAL EXAMINATION",
        ),
    ),
    SectionName("vital_signs", ("VITAL SIGNS", "VITALS", "VS", "VITAL SIGN")),
    SectionName(
        "labs",
        (
            "LABS",
            "LABORATORY DATA",
            "LABORATORY STUDIES",
            "LABORATORY",
            "LAB DATA",
            "LAB RESULTS",
            "LABORATORY RESULTS",
            "LABORATORY VALUES",
            "LABORATORY TESTS",
        ),
    ),
    SectionName(
        "imaging",
        (
            "IMAGING",
            "IMAGING STUDIES",
            "RADIOLOGY",
            "RADIOLOGIC STUDIES",
            "RADIOLOGICAL STUDIES",
            "X-RAYS",
            "RADIOGRAPHS",
        ),
    ),
    SectionName("subjective", ("SUBJECTIVE",)),
    SectionName("objective", ("OBJECTIVE",)),
    SectionName("assessment", ("ASSESSMENT", "CLINICAL ASSESSMENT")),
    SectionName(
        "plan",
        ("PLAN", "PLANS", "TREATMENT PLAN", "PLAN OF CARE", "RECOMMENDATIONS", "RECOMMENDATION"),
    ),
    SectionName(
        "assessment_and_plan",
        (
            "ASSESSMENT AND PLAN",
            "ASSESSMENT/PLAN",
            "ASSESSMENT & PLAN",
            "A/P",
            "A&P",
            "IMPRESSION AND PLAN",
            "IMPRESSION/PLAN",
            "IMPRESSION & PLAN",
        ),
    ),
    SectionName("impression", ("IMPRESSION", "IMPRESSIONS", "CLINICAL IMPRESSION")),
    SectionName(
        "preoperative_diagnosis",
        (
            "PREOPERATIVE DIAGNOSIS",
            "PREOPERATIVE DIAGNOSES",
            "PRE-OPERATIVE DIAGNOSIS",
            "PRE-OPERATIVE DIAGNOSES",
            "PREOP DIAGNOSIS",
        ),
    ),
    SectionName(
        "postoperative_diagnosis",
        (
            "POSTOPERATIVE DIAGNOSIS",
            "POSTOPERATIVE DIAGNOSES",
            "POST-OPERATIVE DIAGNOSIS",
            "POST-OPERATIVE DIAGNOSES",
            "POSTOP DIAGNOSIS",
        ),
    ),
    SectionName(
        "diagnoses",
        (
            "DIAGNOSIS",
            "DIAGNOSES",
            "FINAL DIAGNOSIS",
            "FINAL DIAGNOSES",
            "DISCHARGE DIAGNOSIS",
            "DISCHARGE DIAGNOSES",
            "ADMISSION DIAGNOSIS",
            "ADMISSION DIAGNOSES",
            "ADMITTING DIAGNOSIS",
            "ADMITTING DIAGNOSES",
            "PRINCIPAL DIAGNOSIS",
            "PRINCIPAL DIAGNOSES",
            "PRIMARY DIAGNOSIS",
            "SECONDARY DIAGNOSIS",
            "SECONDARY DIAGNOSES",
        ),
    ),
    SectionName(
        "problem_list", ("PROBLEM LIST", "PROBLEMS", "ACTIVE PROBLEMS", "PROBLEMS AND ISSUES")
    ),
    SectionName(
        "procedure",
        (
            "PROCEDURE",
            "PROCEDURES",
            "PROCEDURE PERFORMED",
            "PROCEDURES PERFORMED",
            "OPERATION",
            "OPERATION PERFORMED",
            "OPERATIONS PERFORMED",
            "NAME OF OPERATION",
            "NAME OF PROCEDURE",
            "DESCRIPTION OF PROCEDURE",
            "DESCRIPTION OF THE PROCEDURE",
            "PROCEDURE IN DETAIL",
            "DETAILS OF PROCEDURE",
            "DETAILS OF THE PROCEDURE",
            "PROCEDURE NOTE",
            "OPERATIVE PROCEDURE",
        ),
    ),
    SectionName(
        "findings",
        ("FINDINGS", "OPERATIVE FINDINGS", "INTRAOPERATIVE FINDINGS", "ENDOSCOPIC FINDINGS"),
    ),
    SectionName(
        "indications",
        (
            "INDICATIONS",
            "INDICATION",
            "INDICATIONS FOR PROCEDURE",
            "INDICATION FOR PROCEDURE",
            "INDICATIONS FOR THE PROCEDURE",
            "INDICATIONS FOR OPERATION",
        ),
    ),
    SectionName("anesthesia", ("ANESTHESIA", "TYPE OF ANESTHESIA", "ANESTHETIC")),
    SectionName("complications", ("COMPLICATIONS",)),
    SectionName("estimated_blood_loss", ("ESTIMATED BLOOD LOSS", "EBL", "BLOOD LOSS")),
    SectionName("specimens", ("SPECIMEN", "SPECIMENS", "SPECIMENS REMOVED")),
    SectionName(
        "hospital_course",
        (
            "HOSPITAL COURSE",
            "BRIEF HOSPITAL COURSE",
            "COURSE",
            "COURSE IN THE HOSPITAL",
            "CLINICAL COURSE",
            "ED COURSE",
            "EMERGENCY DEPARTMENT COURSE",
        ),
    ),
    SectionName("disposition", ("DISPOSITION", "DISCHARGE DISPOSITION")),
    SectionName("discharge_instructions", ("DISCHARGE INSTRUCTIONS", "INSTRUCTIONS")),
    SectionName("immunizations", ("IMMUNIZATIONS", "IMMUNIZATION HISTORY")),
    SectionName("medical_decision_making", ("MEDICAL DECISION MAKING", "MDM")),
)


def header_table(
    sections: Iterable[SectionName] = SECTION_NAMES,
) -> Mapping[str, str]:
    """Header key (:func:`header_key`) -> section name; a later section's header wins."""
    return {header_key(h): section.name for section in sections for h in section.headers}


def parse_custom_header(entry: str) -> SectionName | None:
    """A ``"HEADER=name"`` entry as a one-header :class:`SectionName`; None if malformed
    (no ``=``, an empty header, or a name that is not snake_case)."""
    header, sep, name = entry.rpartition("=")
    header, name = header.strip(), name.strip()
    if not sep or not header_key(header) or not NAME_PATTERN.fullmatch(name):
        return None
    return SectionName(name, (header,))
