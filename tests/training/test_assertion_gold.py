"""MACCROBAT's POLARITY attributes as gold assertion labels, and the split of documents."""

from __future__ import annotations

import pytest

from sparkner.training.assertion_gold import read_assertions, read_gold, split_documents
from sparkner.training.brat import BratFormatError


def write(folder, stem: str, text: str, ann: list[str]) -> None:
    (folder / f"{stem}.txt").write_bytes(text.encode())
    (folder / f"{stem}.ann").write_text("\n".join(ann) + "\n")


def test_polarity_values_become_labels(tmp_path):
    text = "No fever, maybe sepsis; CT done.\r\nAspirin stopped, gram stain."
    #       0  3      10    16      24        34              51   56
    ann = [
        "T1\tSign_symptom 3 8\tfever",
        "E1\tSign_symptom:T1 ",
        "A1\tPOLARITY E1 NEG",
        "T2\tDisease_disorder 16 22\tsepsis",
        "E2\tDisease_disorder:T2",
        "A2\tPOLARITY E2 MAYBE_POS",
        "T3\tDiagnostic_procedure 24 26\tCT",
        "E3\tDiagnostic_procedure:T3",
        "A3\tTREND E3 INC",  # not a polarity
        "T4\tMedication 34 41\tAspirin",
        "E4\tMedication:T4",
        "A4\tPOLARITY E4 UNCERTAIN",
        "T5\tBiological_structure 10 15\tmaybe",
        "E5\tOther:T5",
        "A5\tPOLARITY E5 NEG",
        "T6\tSign_symptom 51 55;56 61\tgram stain",  # discontinuous: a mention per fragment
        "T7\tDisease_disorder 3 8\tfever",  # the same span again: one mention, not present
        "R1\tMODIFY Arg1:T5 Arg2:E1",
        "#1\tAnnotatorNotes T1\tnote",
    ]
    write(tmp_path, "doc1", text, ann)
    found = read_assertions(tmp_path / "doc1.ann", len(text))
    assert [(text[b : e + 1], label, kind) for b, e, label, kind in found] == [
        ("fever", "absent", "PROBLEM"),
        ("sepsis", "possible", "PROBLEM"),
        ("CT", "present", "TEST"),
        ("Aspirin", "possible", "TREATMENT"),
        ("gram", "present", "PROBLEM"),
        ("stain", "present", "PROBLEM"),
    ]
    (document,) = read_gold(tmp_path)
    assert document.id == "doc1" and document.text == text
    assert document.mentions[0] == (3, 7, "absent")  # end inclusive
    assert document.entities == ("PROBLEM", "PROBLEM", "TEST", "TREATMENT", "PROBLEM", "PROBLEM")


def test_clinical_spans_take_their_heads_label(tmp_path):
    text = "She denies chest pain. Chronic cough."
    ann = [
        "T1\tSign_symptom 17 21\tpain",
        "E1\tSign_symptom:T1",
        "A1\tPOLARITY E1 NEG",
        "T2\tBiological_structure 11 16\tchest",
        "R1\tMODIFY Arg1:T2 Arg2:E1",
        "T3\tSign_symptom 31 36\tcough",
        "E3\tSign_symptom:T3",
        "T4\tDetailed_description 23 30\tChronic",
        "R2\tMODIFY Arg1:T4 Arg2:E3",
    ]
    write(tmp_path, "doc1", text, ann)
    (document,) = read_gold(tmp_path, span_convention="clinical")
    assert [(text[b : e + 1], label) for b, e, label in document.mentions] == [
        ("chest pain", "absent"),
        ("Chronic cough", "present"),
    ]
    (heads,) = read_gold(tmp_path)
    assert [(text[b : e + 1], label) for b, e, label in heads.mentions] == [
        ("pain", "absent"),
        ("cough", "present"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "T1\tSign_symptom 3 x\tfever",
        "T1\tSign_symptom 3 99\tfever",
        "E1\tSign_symptom",
        "A1\tPOLARITY",
    ],
)
def test_bad_lines_raise(tmp_path, line):
    write(tmp_path, "bad", "No fever.", [line])
    with pytest.raises(BratFormatError, match="line 1"):
        read_assertions(tmp_path / "bad.ann", len("No fever."))


def test_split_documents_follow_the_ner_recipe(tmp_path):
    from sparkner.training.corpora import brat_group
    from sparkner.training.splits import split_keys

    stems = [f"{1000 + i}" for i in range(40)]
    for stem in stems:
        write(tmp_path, stem, "x", [])
    assigned = split_keys([brat_group(s) for s in stems], 13, (0.8, 0.1, 0.1))
    for split in ("train", "dev", "test"):
        chosen = split_documents(tmp_path, split)
        assert chosen == sorted(s for s in stems if assigned[s] == split)
    assert sum(len(split_documents(tmp_path, s)) for s in ("train", "dev", "test")) == 40


def test_maccrobat_gold_counts():
    from tests_support import SHARED_DATA

    folder = SHARED_DATA / "maccrobat"
    if not folder.is_dir():
        pytest.skip(f"MACCROBAT not found at {folder} (set SPARKNER_SHARED_DATA)")
    from collections import Counter

    from sparkner.training.assertion_gold import read_split

    counts = {}
    for split in ("train", "dev", "test"):
        documents = read_split(folder, split)
        counts[split] = (
            len(documents),
            Counter(label for d in documents for *_, label in d.mentions),
        )
        for d in documents:
            assert len(d.mentions) == len(d.entities)
            assert all(0 <= b <= e < len(d.text) for b, e, _ in d.mentions)
    assert [counts[s][0] for s in ("train", "dev", "test")] == [120, 15, 15]
    assert counts["dev"][1] == Counter(present=759, absent=73, possible=25)
    assert counts["test"][1] == Counter(present=916, absent=72, possible=9)
    total = sum((c for _, c in counts.values()), Counter())
    assert total["absent"] == 790 and total["possible"] == 147
