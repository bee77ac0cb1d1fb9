"""The assertion classifier's recipe: the notes' gold assertions, the recipe file and its grid,
and (slow, with the shared data) a build that the stage loads."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from sparkner import AssertionModel
from sparkner.training.assertion_classifier import (
    AssertionRecipe,
    build,
    grid_points,
    load_recipe,
)
from sparkner.training.assertion_gold import read_note_assertions, read_notes
from sparkner.training.brat import BratFormatError

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"


def test_the_notes_assertions_are_read_with_inclusive_ends(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    text = "HPI: No fever. Will start aspirin."
    (folder / "1.txt").write_text(text)
    (folder / "1.ann").write_text(
        "T1\tPROBLEM 8 13\tfever\nA1\tAssertion T1 absent\n"
        "T2\tTREATMENT 26 33\taspirin\nA2\tAssertion T2 hypothetical\n"
    )
    (document,) = read_notes(tmp_path, "train")
    assert [(text[b : e + 1], label) for b, e, label in document.mentions] == [
        ("fever", "absent"),
        ("aspirin", "hypothetical"),
    ]
    assert document.entities == ("PROBLEM", "TREATMENT")
    (folder / "1.ann").write_text("T1\tPROBLEM 8 13\tfever\nA1\tAssertion T1 maybe\n")
    with pytest.raises(BratFormatError, match="line 2"):
        read_note_assertions(folder / "1.ann", len(text))
    with pytest.raises(FileNotFoundError, match="no such split folder"):
        read_notes(tmp_path, "dev")


def test_the_recipe_and_its_grid(tmp_path):
    recipe = load_recipe(REPO / "conf" / "assertion_clinical.yaml")
    points = grid_points(recipe)
    assert len(points) == math.prod(len(v) for v in recipe.grid.values()) > 1
    assert {p.maccrobat_weight for p in points} == set(recipe.grid["maccrobat_weight"])
    assert grid_points(replace(recipe, grid={})) == [replace(recipe, grid={})]
    (tmp_path / "bad.yaml").write_text("grid: {windows: [1, 2]}\n")
    with pytest.raises(ValueError, match="unknown grid setting"):
        load_recipe(tmp_path / "bad.yaml")


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "clinical_notes").is_dir(), reason="needs the shared data")
def test_a_build_on_the_notes_is_loaded_by_the_stage(tmp_path):
    recipe = AssertionRecipe(maccrobat_weight=0.0, iterations=40)
    classifier = build(recipe, DATA, tmp_path, run_selection=False, log=lambda _: None)
    dev = classifier.record["dev"]["notes_dev"]
    # Far above the rules on the notes' plans (the rules: hypothetical F1 0.15).
    assert dev["hypothetical_f1"] > 0.4 and dev["absent_f1"] > 0.85
    stage = AssertionModel().attach_files(tmp_path)
    assert stage.uses_classifier()
