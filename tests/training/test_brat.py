"""The brat reader: alignment to sparkner's tokens, the overlap and fragment rules, errors."""

from __future__ import annotations

import pytest

from sparkner.core.annotation import AnnotationBatch
from sparkner.training.brat import Brat, BratFormatError

MAP = {
    "Sign_symptom": "PROBLEM",
    "Disease_disorder": "PROBLEM",
    "Medication": "TREATMENT",
    "Diagnostic_procedure": "TEST",
}


def write(folder, stem, text, ann):
    folder.mkdir(exist_ok=True)
    (folder / f"{stem}.txt").write_bytes(text.encode())
    (folder / f"{stem}.ann").write_text(ann)


def tags_of(table, row=0):
    tokens = AnnotationBatch(table.column("token"))
    labels = AnnotationBatch(table.column("label"))
    lo, hi = tokens.row_offsets[row], tokens.row_offsets[row + 1]
    return list(zip(tokens.result[lo:hi], labels.result[lo:hi], strict=True))


def test_alignment_rules(tmp_path):
    text = "Severe chest pain, treated with aspirin.\r\nCT of the chest was normal."
    #       0      7     13                  32       40  43
    ann = "\n".join(
        [
            "T1\tSign_symptom 7 17\tchest pain",
            "T2\tBiological_structure 7 12\tchest",  # unmapped: O
            "T3\tSign_symptom 0 17\tSevere chest pain",  # longest of the nested: wins
            "T4\tMedication 32 39\taspirin",
            "T5\tDiagnostic_procedure 42 44;48 57\tCT chest",  # discontinuous: two entities
            "E1\tSign_symptom:T1",
            "R1\tMODIFY Arg1:T2 Arg2:E1",
            "A1\tPolarity E1 NEG",
            "#1\tnote",
        ]
    )
    write(tmp_path, "doc1", text, ann)
    reader = Brat(MAP)
    table = reader.read_table(tmp_path)
    assert tags_of(table) == [
        ("Severe", "B-PROBLEM"),
        ("chest", "I-PROBLEM"),
        ("pain", "I-PROBLEM"),
        (",", "O"),
        ("treated", "O"),
        ("with", "O"),
        ("aspirin", "B-TREATMENT"),
        (".", "O"),
        ("CT", "B-TEST"),
        ("of", "O"),
        ("the", "B-TEST"),
        ("chest", "I-TEST"),
        ("was", "O"),
        ("normal", "O"),
        (".", "O"),
    ]
    assert reader.report.dropped_overlaps == 1
    assert reader.report.entities == {"PROBLEM": 1, "TREATMENT": 1, "TEST": 2}
    # The \r is kept, so brat's offsets and the tokens agree with the text as stored.
    assert table.column("text")[0].as_py() == text


def test_entity_cutting_a_token_is_counted(tmp_path):
    write(tmp_path, "d", "hypertensive crisis", "T1\tDisease_disorder 0 5\thyper")
    reader = Brat(MAP)
    assert tags_of(reader.read_table(tmp_path)) == [("hypertensive", "B-PROBLEM"), ("crisis", "O")]
    assert reader.report.cut_tokens == 1


def test_documents_can_be_chosen_and_columns_read_in_spark(spark, tmp_path):
    write(tmp_path, "a", "Fever.", "T1\tSign_symptom 0 5\tFever")
    write(tmp_path, "b", "Cough.", "T1\tSign_symptom 0 5\tCough")
    frame = Brat(MAP, documents=["b"]).readDataset(spark, str(tmp_path))
    rows = frame.collect()
    assert [r.id for r in rows] == ["b"]
    assert [(a.result, a.metadata["word"]) for a in rows[0].label] == [
        ("B-PROBLEM", "Cough"),
        ("O", "."),
    ]
    types = {f.name: f.metadata.get("annotatorType") for f in frame.schema.fields}
    assert types["label"] == "named_entity" and types["token"] == "token"


@pytest.mark.parametrize(
    ("ann", "message"),
    [
        ("T1\tSign_symptom 0 x\tx", r"d.ann, line 1: expected 'start end' offsets"),
        ("T1\tSign_symptom 3 99\tx", r"d.ann, line 1: span 3-99 is outside the text"),
        ("E1\tx\nT2", r"d.ann, line 2: expected 'T<n><TAB>Type start end'"),
    ],
)
def test_malformed_ann_names_file_and_line(tmp_path, ann, message):
    write(tmp_path, "d", "Fever and cough.", ann)
    with pytest.raises(BratFormatError, match=message):
        Brat(MAP).read_table(tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="label_map"):
        Brat({})
    with pytest.raises(FileNotFoundError, match="no such brat folder"):
        Brat(MAP).read_table("/nonexistent/folder")


def test_maccrobat_reads_completely():
    from tests_support import SHARED_DATA

    folder = SHARED_DATA / "maccrobat"
    if not folder.is_dir():
        pytest.skip("shared data not available")
    reader = Brat(MAP | {"Therapeutic_procedure": "TREATMENT"})
    table = reader.read_table(folder)
    assert table.num_rows == 150
    # The data README counts 3,586 / 3,432 / 1,532 mapped entities; fragments and the
    # overlap rule move a few.
    counts = reader.report.entities
    assert abs(counts["PROBLEM"] - 3586) < 40 and abs(counts["TEST"] - 3432) < 40
    assert abs(counts["TREATMENT"] - 1532) < 40 and reader.report.unaligned == 0
