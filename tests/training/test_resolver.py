"""The resolvers' recipe on a tiny lexicon and corpus (written here): the three folders are
built, load without pickle and resolve; the PubTator reader and the ICD and drug rules."""

from __future__ import annotations

import json
import lzma

import pytest

from sparkner.resolution.resolver import load_resolver
from sparkner.training.pubtator import read_pubtator
from sparkner.training.resolver import build, icd_variants

HEADER = "term\tclass\tsource_id\n"


def _xz(path, text: str) -> None:
    with lzma.open(path, "wt", encoding="utf-8") as handle:
        handle.write(text)


def _abstract(pmid: str, title: str, abstract: str, mentions) -> str:
    text = f"{title} {abstract}"
    lines = [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"]
    for mention, ids in mentions:
        start = text.index(mention)
        lines.append(f"{pmid}\t{start}\t{start + len(mention)}\t{mention}\tSpecificDisease\t{ids}")
    return "\n".join(lines) + "\n\n"


@pytest.fixture
def data(tmp_path):
    lexicons = tmp_path / "lexicons"
    lexicons.mkdir()
    _xz(
        lexicons / "mesh_descriptors.tsv.xz",
        "descriptor\tpreferred_name\tterm\ttree_numbers\n"
        "D001943\tBreast Neoplasms\tBreast Neoplasms\tC04.588.180\n"
        "D001943\tBreast Neoplasms\tBreast Cancer\tC04.588.180\n"
        "D009369\tNeoplasms\tNeoplasms\t\n"
        "D009369\tNeoplasms\tTumors\t\n"
        "D003924\tDiabetes Mellitus, Type 2\tType 2 Diabetes\tC18.452.394.750.149\n"
        "D001241\tAspirin\tAspirin\tD02.455.426.559.389.657.410.595.500\n",
    )
    _xz(lexicons / "mesh_terms.tsv.xz", HEADER + "Aspirin\tTREATMENT_DRUG\tMESH:D001241\n")
    _xz(
        lexicons / "icd10cm_terms.tsv.xz",
        HEADER + "Type 2 diabetes mellitus\tPROBLEM\tICD10CM:E11\n"
        "Type 2 diabetes mellitus without complications\tPROBLEM\tICD10CM:E11.9\n"
        "Type 2 diabetes mellitus with hyperglycemia\tPROBLEM\tICD10CM:E11.65\n"
        "Essential (primary) hypertension\tPROBLEM\tICD10CM:I10\n"
        # A category's name and a leaf's "X, unspecified" (M54.5 -> M54.50, not M54.59);
        # "Pain" claimed by R52's own name before the G89 category's.
        "Pain, not elsewhere classified\tPROBLEM\tICD10CM:G89\n"
        "Other chronic pain\tPROBLEM\tICD10CM:G89.29\n"
        "Low back pain\tPROBLEM\tICD10CM:M54.5\n"
        "Loin pain\tPROBLEM\tICD10CM:M54.50\n"
        "Low back pain, unspecified\tPROBLEM\tICD10CM:M54.50\n"
        "Other low back pain\tPROBLEM\tICD10CM:M54.59\n"
        "Pain NOS\tPROBLEM\tICD10CM:R52\n"
        "Pain, unspecified\tPROBLEM\tICD10CM:R52\n",
    )
    _xz(
        lexicons / "drug_terms.tsv.xz",
        HEADER + "aspirin\tTREATMENT_DRUG\tDRUGBANK:DB00945\n"
        "acetylsalicylic acid\tTREATMENT_DRUG\tDRUGBANK:DB00945\n"
        "metformin\tTREATMENT_DRUG\tDRUGBANK:DB00331\n",
    )
    _xz(
        lexicons / "unii_names.tsv.xz",
        HEADER + "ASPIRIN\tTREATMENT_DRUG\tUNII:R16CO5Y76E\n"
        "BAYER ASPIRIN\tTREATMENT_DRUG\tUNII:R16CO5Y76E\n",
    )
    corpus = tmp_path / "ncbi_disease" / "concepts"
    corpus.mkdir(parents=True)
    train = "".join(
        _abstract(
            str(100 + i),
            "Breast tumours in women.",
            "Type 2 diabetes (T2D) and breast carcinoma; T2D again.",
            [
                ("Breast tumours", "D001943"),
                ("Type 2 diabetes", "D003924"),
                ("T2D", "D003924"),
                ("breast carcinoma", "D001943"),
            ],
        )
        for i in range(4)
    )
    (corpus / "train.pubtator.txt").write_text(train)
    dev = _abstract(
        "200",
        "A tumor.",
        "Breast cancer and type 2 diabetes.",
        [("tumor", "D009369"), ("Breast cancer", "D001943"), ("type 2 diabetes", "D003924")],
    )
    (corpus / "dev.pubtator.txt").write_text(dev)
    return tmp_path


def test_the_recipe_builds_three_resolvers_that_load_and_resolve(data, tmp_path):
    out = tmp_path / "out"
    records = build(data, out, log=False)
    assert set(records) == {"resolver_mesh", "resolver_icd10cm", "resolver_drugs"}
    record = json.loads((out / "resolver_mesh" / "build.json").read_text())
    assert record["ranker"]["selected_on"].endswith("dev.pubtator.txt")
    mesh = load_resolver(str(out / "resolver_mesh"))
    assert mesh.vocabulary.codes[mesh.resolve("breast tumour", "Disease")[0].concept] == "D001943"
    assert "Breast tumours" in mesh.vocabulary.aliases  # a train mention became an alias
    icd = load_resolver(str(out / "resolver_icd10cm"))
    # The category's terms went to its default leaf: E11 is not a code of its own.
    assert "E11" not in icd.vocabulary.codes
    assert icd.vocabulary.codes[icd.resolve("type 2 diabetes mellitus")[0].concept] == "E11.9"
    assert icd.vocabulary.codes[icd.resolve("hypertension")[0].concept] == "I10"
    assert icd.vocabulary.codes[icd.resolve("low back pain")[0].concept] == "M54.50"
    assert icd.vocabulary.codes[icd.resolve("pain")[0].concept] == "R52"
    # A code's name: its term that says "unspecified" (the file lists terms alphabetically).
    assert (
        icd.vocabulary.names[icd.vocabulary.codes.index("M54.50")] == "Low back pain, unspecified"
    )
    assert (out / "resolver_icd10cm" / "alias_forms.txt").exists()
    drugs = load_resolver(str(out / "resolver_drugs"))
    (aspirin,) = [i for i, c in enumerate(drugs.vocabulary.codes) if c == "DB00945"]
    assert drugs.vocabulary.aux[aspirin] == "R16CO5Y76E"
    assert drugs.resolve("Bayer Aspirin")[0].concept == aspirin  # a UNII brand name


def test_pubtator_reader_and_its_errors(data, tmp_path):
    (abstract, *_) = read_pubtator(data / "ncbi_disease" / "concepts" / "train.pubtator.txt")
    assert abstract.pmid == "100" and len(abstract.mentions) == 4
    mention = abstract.mentions[0]
    assert abstract.text[mention.begin : mention.end] == mention.text == "Breast tumours"
    bad = tmp_path / "bad.txt"
    bad.write_text("1|t|Title\n1|a|Abstract\n1\t0\t3\tXYZ\tSpecificDisease\tD1\n")
    with pytest.raises(ValueError, match=r"bad\.txt, line 3: the offsets"):
        read_pubtator(bad)
    composite = tmp_path / "composite.txt"
    composite.write_text("1|t|A and B cancer\n1|a|x\n1\t0\t14\tA and B cancer\tX\tD1|MESH:D2+D3\n")
    assert read_pubtator(composite)[0].mentions[0].ids == ("D1", "D2", "D3")


def test_icd_variants_drop_parentheses_and_unspecified_parts():
    assert icd_variants("Essential (primary) hypertension") == [
        "Essential (primary) hypertension",
        "Essential hypertension",
    ]
    assert icd_variants("Pneumonia, unspecified organism") == [
        "Pneumonia, unspecified organism",
        "Pneumonia",
    ]
    # The code a bare name gets: "Unspecified X" and "X NOS" also read "X".
    assert icd_variants("Unspecified hydronephrosis") == [
        "Unspecified hydronephrosis",
        "hydronephrosis",
    ]
    assert icd_variants("Seizure NOS") == ["Seizure NOS", "Seizure"]
    assert icd_variants("Unspecified") == ["Unspecified"]
