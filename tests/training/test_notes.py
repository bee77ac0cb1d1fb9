"""The annotated clinical notes reader and the note kinds."""

from __future__ import annotations

import pytest

from sparkner.training.brat import BratFormatError
from sparkner.training.notes import KINDS, Mention, note_kind, read_notes


def test_mentions_carry_their_assertion_and_default_to_present(tmp_path):
    text = "HISTORY: Denies fever. Mother had breast cancer. CT scan planned."
    (tmp_path / "1.txt").write_text(text)
    spans = {w: (text.index(w), text.index(w) + len(w)) for w in ("fever", "breast cancer", "CT")}
    (tmp_path / "1.ann").write_text(
        f"T1\tPROBLEM {spans['fever'][0]} {spans['fever'][1]}\tfever\n"
        f"T2\tPROBLEM {spans['breast cancer'][0]} {spans['breast cancer'][1]}\tbreast cancer\n"
        f"T3\tTEST {spans['CT'][0]} {spans['CT'][1]}\tCT\n"
        "A1\tAssertion T1 absent\nA2\tAssertion T2 associated_with_someone_else\n"
    )
    (note,) = read_notes(tmp_path)
    assert note.id == "1" and note.text == text
    assert note.mentions == (
        Mention(*spans["fever"], "PROBLEM", "absent"),
        Mention(*spans["breast cancer"], "PROBLEM", "associated_with_someone_else"),
        Mention(*spans["CT"], "TEST", "present"),
    )
    assert all(text[m.begin : m.end] for m in note.mentions)


def test_a_bad_assertion_line_names_the_file_and_line(tmp_path):
    (tmp_path / "2.txt").write_text("Denies fever.")
    (tmp_path / "2.ann").write_text("T1\tPROBLEM 7 12\tfever\nA1\tAssertion T1\n")
    with pytest.raises(BratFormatError, match=r"2\.ann, line 2"):
        read_notes(tmp_path)


@pytest.mark.parametrize(
    "specialty, name, text, kind",
    [
        ("Discharge Summary", "Discharge Summary - Urology", "", "discharge"),
        ("Emergency Room Reports", "MRSA Infection - ER Visit", "", "emergency"),
        ("SOAP / Chart / Progress Notes", "Gen Med SOAP - 10", "", "progress"),
        ("Consult - History and Phy.", "GI Consultation - 4", "", "consult"),
        ("Radiology", "CT KUB", "EXAM: CT abdomen.", "diagnostic"),
        ("Orthopedic", "Lumbar Fusion", "PREOPERATIVE DIAGNOSIS: , Back pain.", "operative"),
        ("Neurology", "Holoprosencephaly", "CC: ,Delayed motor development.", "consult"),
    ],
)
def test_note_kinds(specialty, name, text, kind):
    assert note_kind(specialty, name, text) == kind
    assert kind in KINDS
