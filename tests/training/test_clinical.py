"""The clinical label mapping, Chia's Procedure rule in particular."""

from __future__ import annotations

import pytest

from sparkner.training.brat import Brat
from sparkner.training.clinical import CHIA_LABELS, chia_procedure


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("CT scan", "TEST"),
        ("colonoscopy", "TEST"),
        ("bone marrow biopsy", "TEST"),
        ("ECG", "TEST"),
        ("coronary angiography", "TEST"),
        ("echocardiogram", "TEST"),
        ("surgery", "TREATMENT"),
        ("radiotherapy", "TREATMENT"),
        ("chemotherapy", "TREATMENT"),
        ("hemodialysis", "TREATMENT"),
        ("coronary artery bypass grafting", "TREATMENT"),
        ("transplantation", "TREATMENT"),
        ("laparoscopic cholecystectomy", "TREATMENT"),
        ("arthroscopic repair", "TREATMENT"),
        ("lumbar puncture", "TEST"),
    ],
)
def test_chia_procedure_rule(text, label):
    assert chia_procedure(text) == label


def test_rules_apply_in_the_reader(tmp_path):
    (tmp_path / "NCT1_inc.txt").write_text("Prior surgery or CT scan\n")
    (tmp_path / "NCT1_inc.ann").write_text(
        "T1\tProcedure 6 13\tsurgery\nT2\tProcedure 17 24\tCT scan\nT3\tQualifier 0 5\tPrior\n"
    )
    table = Brat(CHIA_LABELS).read_table(tmp_path)
    labels = [a["result"] for a in table.column("label")[0].as_py()]
    assert labels == ["O", "B-TREATMENT", "O", "B-TEST", "I-TEST"]


def test_section_headers_counts_and_forms():
    from sparkner.training.clinical import section_headers

    notes = [
        "HISTORY OF PRESENT ILLNESS: Fever.\nPHYSICAL EXAMINATION: Normal.",
        "SUBJECTIVE:,  Cough.,PHYSICAL EXAMINATION:,  Clear.,PLAN:, Rest.",
        "PHYSICAL EXAMINATION: BP 120/80 with CT: done. Not a header: x. ct SCAN: no",
    ]
    assert section_headers(notes, 1) == [
        "PHYSICAL EXAMINATION:",
        "HISTORY OF PRESENT ILLNESS:",
        "PLAN:",
        "SUBJECTIVE:",
    ]
    assert section_headers(notes, 2) == ["PHYSICAL EXAMINATION:"]
