"""MACCROBAT heads extended by their modifiers (the 2010 i2b2/VA span convention)."""

from __future__ import annotations

import pytest

from sparkner.core.annotation import AnnotationBatch
from sparkner.training.brat import Brat, BratFormatError, parse_standoff, read_standoff
from sparkner.training.clinical import MACCROBAT_LABELS
from sparkner.training.clinical_spans import clinical_entities, extend_spans


def spans_of(text: str, ann: list[str], resolve: bool = True) -> list[tuple[str, str]]:
    """(label, text) of each converted entity of a hand-made document."""
    standoff = parse_standoff(ann, len(text))
    found = clinical_entities(standoff, text) if resolve else extend_spans(standoff, text)
    return [(s.label, text[s.begin : s.end]) for s in found]


def t(ident: str, type_name: str, text: str, word: str) -> str:
    """A ``T`` line for the first occurrence of ``word`` in ``text``."""
    begin = text.index(word)
    return f"{ident}\t{type_name} {begin} {begin + len(word)}\t{word}"


def test_direct_modifier_through_the_event_is_absorbed():
    text = "He had fever and chronic cough."
    ann = [
        t("T1", "Sign_symptom", text, "fever"),
        "E1\tSign_symptom:T1 ",
        t("T2", "Sign_symptom", text, "cough"),
        "E2\tSign_symptom:T2 ",
        t("T3", "Detailed_description", text, "chronic"),
        "R1\tMODIFY Arg1:T3 Arg2:E2\t",
    ]
    assert spans_of(text, ann) == [("PROBLEM", "fever"), ("PROBLEM", "chronic cough")]


def test_relation_on_the_entity_itself_also_counts():
    text = "pulmonary tuberculosis"
    ann = [
        t("T1", "Disease_disorder", text, "tuberculosis"),
        t("T2", "Biological_structure", text, "pulmonary"),
        "R1\tMODIFY Arg1:T2 Arg2:T1",
    ]
    assert spans_of(text, ann) == [("PROBLEM", "pulmonary tuberculosis")]


def test_the_modified_is_arg2_not_arg1():
    # "chronic" is Arg2 here: it is the one modified, so the head absorbs nothing.
    text = "chronic cough"
    ann = [
        t("T1", "Sign_symptom", text, "cough"),
        "E1\tSign_symptom:T1",
        t("T2", "Detailed_description", text, "chronic"),
        "R1\tMODIFY Arg1:E1 Arg2:T2",
    ]
    assert spans_of(text, ann) == [("PROBLEM", "cough")]


def test_chains_are_followed_and_repeated_until_nothing_joins():
    # "lung" modifies "biopsy", "thoracoscopic" too but touches only once "lung" has joined;
    # "vesicular" modifies "nuclei", which modifies the head "swelling" (A -> B -> C).
    text = "A thoracoscopic lung biopsy showed vesicular nuclei swelling."
    ann = [
        t("T1", "Diagnostic_procedure", text, "biopsy"),
        "E1\tDiagnostic_procedure:T1",
        t("T2", "Detailed_description", text, "thoracoscopic"),
        "R1\tMODIFY Arg1:T2 Arg2:E1",
        t("T3", "Biological_structure", text, "lung"),
        "R2\tMODIFY Arg1:T3 Arg2:E1",
        t("T4", "Sign_symptom", text, "swelling"),
        "E2\tSign_symptom:T4",
        t("T5", "Biological_structure", text, "nuclei"),
        "R3\tMODIFY Arg1:T5 Arg2:E2",
        t("T6", "Detailed_description", text, "vesicular"),
        "R4\tMODIFY Arg1:T6 Arg2:T5",
    ]
    assert spans_of(text, ann) == [
        ("TEST", "thoracoscopic lung biopsy"),
        ("PROBLEM", "vesicular nuclei swelling"),
    ]
    standoff = parse_standoff(ann, len(text))
    heads = {s.head: s.absorbed for s in extend_spans(standoff, text)}
    assert heads == {"T1": ("T3", "T2"), "T4": ("T5", "T6")}


def test_a_chain_stops_at_a_modifier_that_does_not_touch():
    # "right" modifies "lobe", which modifies the biopsy but does not touch it: neither joins.
    text = "biopsy of the right lobe"
    ann = [
        t("T1", "Diagnostic_procedure", text, "biopsy"),
        "E1\tDiagnostic_procedure:T1",
        t("T2", "Biological_structure", text, "lobe"),
        "R1\tMODIFY Arg1:T2 Arg2:E1",
        t("T3", "Detailed_description", text, "right"),
        "R2\tMODIFY Arg1:T3 Arg2:T2",
    ]
    assert spans_of(text, ann) == [("TEST", "biopsy")]


@pytest.mark.parametrize(
    ("text", "modifiers", "expected"),
    [
        ("cystic mass", ["cystic"], "cystic mass"),  # one space
        ("cm-sized mass", ["cm-sized"], "cm-sized mass"),
        ("non-tender mass", ["tender", "non"], "non-tender mass"),  # a chain through a hyphen
        ("mass-like", ["like"], "mass-like"),  # a hyphen, the modifier after the head
        ("masslike", ["like"], "masslike"),  # no gap at all
        ("mass  like", ["like"], "mass"),  # two spaces
        ("mass, like", ["like"], "mass"),  # a comma
        ("mass - like", ["like"], "mass"),  # a spaced hyphen
        ("mass\nlike", ["like"], "mass"),  # a line break is not a space
        ("mass\tlike", ["like"], "mass"),
    ],
)
def test_what_touches(text, modifiers, expected):
    # The first modifier modifies the head "mass", each next one the modifier before it.
    ann = [t("T1", "Sign_symptom", text, "mass"), "E1\tSign_symptom:T1"]
    for n, word in enumerate(modifiers, start=2):
        target = "E1" if n == 2 else f"T{n - 1}"
        ann += [
            t(f"T{n}", "Detailed_description", text, word),
            f"R{n}\tMODIFY Arg1:T{n} Arg2:{target}",
        ]
    assert spans_of(text, ann) == [("PROBLEM", expected)]


JOINED, ALONE = ["aaa bbb"], ["bbb"]


@pytest.mark.parametrize(
    ("head", "modifier", "expected"),
    [
        ("Sign_symptom", "Severity", JOINED),
        ("Sign_symptom", "Color", JOINED),
        ("Sign_symptom", "Shape", JOINED),
        ("Sign_symptom", "Texture", JOINED),
        ("Disease_disorder", "Biological_structure", JOINED),
        ("Diagnostic_procedure", "Biological_structure", JOINED),
        ("Therapeutic_procedure", "Detailed_description", JOINED),
        ("Medication", "Detailed_description", JOINED),
        ("Diagnostic_procedure", "Severity", ALONE),  # allowed for problems only
        ("Medication", "Color", ALONE),
        ("Medication", "Dosage", ALONE),
        ("Diagnostic_procedure", "Lab_value", ALONE),
        ("Sign_symptom", "Frequency", ALONE),
        ("Sign_symptom", "Sign_symptom", ["aaa", "bbb"]),  # a mapped entity stays a concept
    ],
)
def test_allowed_types(head, modifier, expected):
    text = "aaa bbb"
    ann = [
        f"T1\t{head} 4 7\tbbb",
        f"E1\t{head}:T1",
        f"T2\t{modifier} 0 3\taaa",
        "R1\tMODIFY Arg1:T2 Arg2:E1",
    ]
    assert [s for _, s in spans_of(text, ann, resolve=False)] == expected


def test_other_relations_do_not_extend():
    text = "pain chest"
    ann = [
        t("T1", "Sign_symptom", text, "pain"),
        "E1\tSign_symptom:T1",
        t("T2", "Biological_structure", text, "chest"),
        "R1\tIDENTICAL Arg1:T2 Arg2:E1",
    ]
    assert spans_of(text, ann) == [("PROBLEM", "pain")]


def test_overlaps_keep_the_longest_then_the_earlier():
    # "skin" modifies both heads: "rash skin" and "skin sore" are as long, the earlier wins.
    text = "rash skin sore"
    ann = [
        t("T1", "Sign_symptom", text, "rash"),
        "E1\tSign_symptom:T1",
        t("T2", "Sign_symptom", text, "sore"),
        "E2\tSign_symptom:T2",
        t("T3", "Biological_structure", text, "skin"),
        "R1\tMODIFY Arg1:T3 Arg2:E1",
        "R2\tMODIFY Arg1:T3 Arg2:E2",
    ]
    assert spans_of(text, ann, resolve=False) == [
        ("PROBLEM", "rash skin"),
        ("PROBLEM", "skin sore"),
    ]
    assert spans_of(text, ann) == [("PROBLEM", "rash skin")]
    # The longer one wins even when it starts later.
    text = "rash skin ulcer"
    ann[2] = t("T2", "Sign_symptom", text, "ulcer")
    assert spans_of(text, ann) == [("PROBLEM", "skin ulcer")]


def test_nested_modifier_and_discontinuous_entities():
    text = "chest pain and CT of the abdomen"
    ann = [
        # A modifier inside the head touches it and changes nothing.
        "T1\tSign_symptom 0 10\tchest pain",
        "E1\tSign_symptom:T1",
        "T2\tBiological_structure 0 5\tchest",
        "R1\tMODIFY Arg1:T2 Arg2:E1",
        # A discontinuous head keeps its fragments, unextended.
        "T3\tDiagnostic_procedure 15 17;25 32\tCT abdomen",
        "E2\tDiagnostic_procedure:T3",
        "T4\tDetailed_description 21 24\tthe",
        "R2\tMODIFY Arg1:T4 Arg2:E2",
    ]
    assert spans_of(text, ann) == [("PROBLEM", "chest pain"), ("TEST", "CT"), ("TEST", "abdomen")]


def test_malformed_events_and_relations_name_the_line():
    with pytest.raises(BratFormatError, match="line 2: expected 'Type:T<n>'"):
        parse_standoff(["T1\tSign_symptom 0 1\tx", "E1\tSign_symptom"], 5, "d.ann")
    with pytest.raises(BratFormatError, match="line 1: expected 'Type Arg1:<id> Arg2:<id>'"):
        parse_standoff(["R1\tMODIFY Arg1:T1"], 5, "d.ann")
    with pytest.raises(BratFormatError, match="span 0-9 is outside the text"):
        parse_standoff(["T1\tSign_symptom 0 9\tx"], 5, "d.ann")


def test_the_reader_applies_the_convention(tmp_path):
    text = "Severe chest pain, treated with aspirin."
    ann = [
        t("T1", "Sign_symptom", text, "pain"),
        "E1\tSign_symptom:T1",
        t("T2", "Biological_structure", text, "chest"),
        "R1\tMODIFY Arg1:T2 Arg2:E1",
        t("T3", "Severity", text, "Severe"),
        "R2\tMODIFY Arg1:T3 Arg2:E1",
        t("T4", "Medication", text, "aspirin"),
        "E2\tMedication:T4",
    ]
    (tmp_path / "d.txt").write_text(text)
    (tmp_path / "d.ann").write_text("\n".join(ann) + "\n")

    def labels(convention):
        table = Brat(MACCROBAT_LABELS, span_convention=convention).read_table(tmp_path)
        return list(AnnotationBatch(table.column("label")).result[:4])

    assert labels("annotated") == ["O", "O", "B-PROBLEM", "O"]
    assert labels("clinical") == ["B-PROBLEM", "I-PROBLEM", "I-PROBLEM", "O"]
    with pytest.raises(ValueError, match="span_convention"):
        Brat(MACCROBAT_LABELS, span_convention="i2b2")
    with pytest.raises(ValueError, match="labels only"):
        Brat({"Procedure": lambda s: "TEST"}, span_convention="clinical")


def test_maccrobat_changes_about_a_quarter_of_the_spans():
    from tests_support import SHARED_DATA

    folder = SHARED_DATA / "maccrobat"
    if not folder.is_dir():
        pytest.skip("shared data not available")
    total = changed = 0
    examples = {}
    for path in sorted(folder.glob("*.txt")):
        text = path.open(encoding="utf-8", newline="").read()
        standoff = read_standoff(path.with_suffix(".ann"), len(text))
        for span in clinical_entities(standoff, text):
            total += 1
            changed += span.extended
            head = standoff.textbounds[span.head]
            if len(head.fragments) > 1:  # a fragment of a discontinuous head, as annotated
                assert (span.begin, span.end) in head.fragments and not span.extended
                continue
            pieces = [standoff.textbounds[i] for i in (span.head, *span.absorbed)]
            # Each piece is where its surface text is, and the span is exactly its pieces and
            # the joins between them.
            rest = list(text[span.begin : span.end])
            for piece in pieces:
                ((begin, end),) = piece.fragments
                assert text[begin:end] == piece.text, (path.stem, piece)
                rest[begin - span.begin : end - span.begin] = ["\0"] * (end - begin)
            assert set(rest) <= {"\0", " ", "-"}, (path.stem, text[span.begin : span.end])
            assert span.begin == min(p.fragments[0][0] for p in pieces)
            assert span.end == max(p.fragments[0][1] for p in pieces)
            examples[text[span.begin : span.end]] = span.head
    assert total > 8000
    assert 0.15 <= changed / total <= 0.35, changed / total
    for phrase in ["chronic cough", "pulmonary tuberculosis", "thoracoscopic lung biopsy"]:
        assert phrase in examples
    assert "fever" in examples


def test_recipes_choose_the_convention_for_maccrobat_only(tmp_path):
    from tests_support import REPO

    from sparkner.training.ner import load_recipe
    from sparkner.training.ner_recipe import brat_convention

    recipe = load_recipe(REPO / "conf" / "ner_clinical.yaml")
    assert recipe.span_convention == "clinical"
    conventions = [brat_convention(recipe, entry) for entry in recipe.brat]
    # MACCROBAT, then Chia and the notes: their own spans
    assert conventions == ["clinical", "annotated", "annotated"]
    config = tmp_path / "r.yaml"
    config.write_text(
        "name: r\nbrat: [{folder: m, labels: maccrobat}]\nspan_convention: maccrobat\n"
    )
    own = load_recipe(config)
    assert brat_convention(own, own.brat[0]) == "annotated"
    config.write_text("name: r\nbrat: [{folder: m, labels: maccrobat}]\nspan_convention: i2b2\n")
    with pytest.raises(ValueError, match="span_convention is one of"):
        load_recipe(config)
