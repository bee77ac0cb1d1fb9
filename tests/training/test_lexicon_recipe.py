"""The lexicon recipe: cleaning rules, the class vote, and a real (tiny) build."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

from sparkner.lexicon.matcher import match_words, term_tokens
from sparkner.lexicon.store import load_lexicon
from sparkner.training.lexicon import (
    LexiconConfig,
    LexiconSource,
    build_lexicon_store,
    clean_term,
    gram_form,
    load_config,
)

REPO = Path(__file__).resolve().parents[2]


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> None:
    lines = "".join(f"{t}\t{c}\tX:{i}\n" for i, (t, c) in enumerate(rows))
    text = "term\tclass\tsource_id\n" + lines
    if path.name.endswith(".xz"):
        with lzma.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def make_data(root: Path) -> None:
    """A miniature of ../shared/data/lexicons."""
    folder = root / "lexicons"
    folder.mkdir(parents=True)
    write_tsv(
        folder / "mesh.tsv.xz",
        [
            ("Carcinoma, Squamous Cell", "PROBLEM"),
            ("Echocardiography", "TEST"),
            ("Biopsy", "TEST"),
            ("Biopsy", "TREATMENT"),
            ("Water", "CHEMICAL"),
            ("Blood Pressure", "TEST"),
            ("PCA", "PROBLEM"),
            ("Metformin", "TREATMENT_DRUG"),
            ("Pain", "PROBLEM"),
        ],
    )
    write_tsv(
        folder / "icd.tsv",
        [
            ("Fracture of femur, unspecified", "PROBLEM"),
            ("Other disorders of skin", "PROBLEM"),
            ("Atherosclerosis of bypass graft(s)", "PROBLEM"),
        ],
    )
    write_tsv(
        folder / "icd9.tsv",
        [
            ("Biopsy of liver", "PROCEDURE"),
            ("Excision of lesion of liver", "PROCEDURE"),
        ],
    )
    write_tsv(folder / "symp.tsv", [("blood pressure", "PROBLEM"), ("a", "PROBLEM")])
    write_tsv(
        folder / "unii.tsv",
        [
            ("WATER", "TREATMENT_DRUG"),
            ("HIP", "TREATMENT_DRUG"),
            ("AT 10", "TREATMENT_DRUG"),
            ("1,2-DIOL, MIXED", "TREATMENT_DRUG"),
        ],
    )


def tiny_config(**overrides) -> LexiconConfig:
    settings = dict(
        name="tiny",
        class_map={
            "PROBLEM": "PROBLEM",
            "TEST": "TEST",
            "TREATMENT": "TREATMENT",
            "TREATMENT_DRUG": "TREATMENT",
            "PROCEDURE": "procedure_rule",
            "CHEMICAL": "drop",
        },
        drop_first_words=["other", "at"],
        stop_words=["hip", "pain"],
        extra_terms={"PROBLEM": ["pain"], "TEST": ["ct scan"]},
        sources=[
            LexiconSource(
                "lexicons/mesh.tsv.xz",
                "MeSH",
                comma="invert",
                acronyms="drop",
                license="NLM",
                attribution="Courtesy of NLM.",
            ),
            LexiconSource("lexicons/icd.tsv", "ICD", comma="prefix", license="public domain"),
            LexiconSource("lexicons/icd9.tsv", "ICD9", comma="prefix"),
            LexiconSource("lexicons/symp.tsv", "SYMP", license="CC0 1.0"),
            LexiconSource("lexicons/unii.tsv", "UNII", acronyms="drop"),
        ],
    )
    settings.update(overrides)
    return LexiconConfig(**settings)


@pytest.fixture
def built(tmp_path):
    make_data(tmp_path / "data")
    stats = build_lexicon_store(tiny_config(), tmp_path / "data", tmp_path / "out")
    return stats, load_lexicon(tmp_path / "out"), tmp_path / "out"


def classes_of(lexicon) -> dict[str, str]:
    return {term: cls for cls, term in lexicon.terms()}


def test_cleaning_and_classes(built):
    stats, lexicon, _ = built
    terms = classes_of(lexicon)
    assert terms["squamous cell carcinoma"] == "PROBLEM"  # MeSH inversion undone
    assert terms["fracture of femur"] == "PROBLEM"  # ICD qualifier cut
    assert terms["atherosclerosis of bypass graft"] == "PROBLEM"  # brackets removed
    assert terms["echocardiography"] == terms["echocardiogram"] == "TEST"  # -gram form
    assert terms["biopsy"] == "TEST"  # tie TEST / TREATMENT -> priority
    assert terms["blood pressure"] == "TEST"  # tie TEST (MeSH) / PROBLEM (SYMP)
    assert terms["biopsy of liver"] == "TEST"  # ICD-9 procedures split by their words
    assert terms["excision of lesion of liver"] == "TREATMENT"
    assert terms["metformin"] == "TREATMENT"
    assert terms["pain"] == "PROBLEM" and terms["ct scan"] == "TEST"  # extras beat stop words
    for gone in ("water", "hip", "at 10", "pca", "a", "other disorders of skin", "1,2-diol"):
        assert gone not in terms, gone
    assert stats["sources"]["lexicons/mesh.tsv.xz"]["dropped"]["acronym"] == 1
    assert stats["dropped_by_vote"] == 1  # water: MeSH chemical outvotes a UNII drug name


def test_store_matches_and_card(built):
    stats, lexicon, out = built
    assert match_words(term_tokens("Squamous cell carcinoma"), lexicon) == [(0, 3, "PROBLEM")]
    card = (out / "README.md").read_text()
    assert "Courtesy of NLM." in card and "| CC0 1.0 |" in card and "MODIFIED" in card
    assert f"| TEST | {stats['counts']['TEST']:,} |" in card
    build = json.loads((out / "build.json").read_text())
    assert build["terms"] == len(lexicon) and build["config"]["name"] == "tiny"


def test_clean_term_rules():
    assert clean_term("Neoplasms, Germ Cell", "invert") == "Germ Cell Neoplasms"
    assert clean_term("A, B, C", "invert") is None
    assert clean_term("A, B", "drop") is None
    assert clean_term("Foo (bar (baz)) qux", "drop") == "Foo qux"
    assert clean_term("(x)", "drop") is None
    assert gram_form(("transthoracic", "echocardiography")) == ("transthoracic", "echocardiogram")
    assert gram_form(("biopsy",)) is None


def test_bundled_config_loads():
    config = load_config(REPO / "conf" / "lexicon_clinical.yaml")
    assert config.name == "lexicon_clinical" and config.classes == ["PROBLEM", "TEST", "TREATMENT"]
    assert all(s.license and s.attribution for s in config.sources)
    assert "no" in config.stop_words and "on" in config.drop_first_words  # quoted in YAML


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nclasess: [A]\n", "unknown setting"),
        ("stop_words: [no, yes]\n", "must be strings"),
        ("class_map: {PROBLEM: DISEASE}\n", "class_map"),
        ("priority: [TEST]\n", "priority"),
        ("sources: [{path: a.tsv, comma: maybe}]\n", "comma"),
    ],
)
def test_bad_configs_name_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_config(path)
    assert "bad.yaml" in str(error.value)


def test_missing_source_is_named(tmp_path):
    config = tiny_config(sources=[LexiconSource("lexicons/none.tsv")])
    with pytest.raises(FileNotFoundError, match=r"none\.tsv"):
        build_lexicon_store(config, tmp_path, tmp_path / "out")
