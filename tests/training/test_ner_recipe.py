"""NER recipes: brat splits plus entity-free section headers of unlabeled notes."""

from __future__ import annotations

import csv

import pytest

from sparkner.training.ner import load_recipe, read_split


def _data(tmp_path):
    folder = tmp_path / "data" / "notes"
    folder.mkdir(parents=True)
    for i in range(20):
        text = f"Patient {i} reports fever."
        (folder / f"{100 + i}.txt").write_text(text)
        begin = text.index("fever")
        (folder / f"{100 + i}.ann").write_text(f"T1\tSign_symptom {begin} {begin + 5}\tfever\n")
    with open(tmp_path / "data" / "notes.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transcription"])
        for _ in range(3):
            writer.writerow(["CHIEF COMPLAINT: Fever.\nPHYSICAL EXAMINATION: Normal."])
        writer.writerow(["RARE HEADER: once."])
    return tmp_path / "data"


def test_headers_join_the_training_split_only(spark, tmp_path):
    data = _data(tmp_path)
    config = tmp_path / "r.yaml"
    config.write_text(
        "name: r\nbrat: [{folder: notes, labels: maccrobat}]\nsplit_fractions: [0.5, 0.25, 0.25]\n"
        "headers: {file: notes.csv, min_count: 2}\n"
    )
    recipe = load_recipe(config)
    train = read_split(spark, recipe, data, "train")
    rows = train.select("text", "label.result").collect()
    headers = [r for r in rows if r.text.endswith(":")]
    assert sorted(r.text for r in headers) == ["CHIEF COMPLAINT:", "PHYSICAL EXAMINATION:"]
    assert all(set(r.result) == {"O"} for r in headers)
    assert len(rows) - len(headers) == 10  # the brat documents of the training split
    dev = read_split(spark, recipe, data, "dev").select("text").collect()
    assert not [r for r in dev if r.text.endswith(":")]


def test_header_settings_are_checked(tmp_path):
    config = tmp_path / "r.yaml"
    config.write_text("name: r\nbrat: [{folder: n, labels: maccrobat}]\nheaders: {path: x}\n")
    with pytest.raises(ValueError, match="headers takes 'file' and 'min_count'"):
        load_recipe(config)


@pytest.mark.slow
def test_refit_trains_again_on_train_and_dev_for_the_kept_epochs(spark, tmp_path):
    from tests_support import write_tiny_conll

    from sparkner.training.ner import dev_figures, kept_epoch, train_recipe

    write_tiny_conll(tmp_path / "train.tsv", sentences=60)
    write_tiny_conll(tmp_path / "dev.tsv", sentences=20)
    config = tmp_path / "r.yaml"
    config.write_text(
        "name: r\ntrain: train.tsv\ndev: dev.tsv\nrefit: true\n"
        "settings: {maxEpochs: 4, lr: 0.01, batchSize: 8, randomSeed: 3, patience: 0}\n"
    )
    model, _ = train_recipe(spark, load_recipe(config), tmp_path)
    record = model.training_record()
    selection = record["selection"]
    assert selection["training_sentences"] == 60 and len(selection["epochs"]) == 4
    assert record["refit_epochs"] == kept_epoch(selection) == len(record["epochs"])
    assert record["training_sentences"] == 80 and "test" not in record
    assert dev_figures(record) == selection["test"]


def test_kept_epoch_is_the_first_best():
    from sparkner.training.ner import kept_epoch

    record = {"epochs": [{"test": {"f1": f1}} for f1 in (0.2, 0.7, 0.5, 0.7)]}
    assert kept_epoch(record) == 2


def test_a_recipe_trains_on_a_store_folder_of_candidate_vectors(spark, tmp_path):
    import numpy as np

    from sparkner.embeddings.store import write_store

    data = _data(tmp_path)
    write_store(data / "candidate", ["patient", "fever"], np.eye(2, 4), "candidate_vectors")
    config = tmp_path / "r.yaml"
    config.write_text(
        "name: r\nbrat: [{folder: notes, labels: maccrobat}]\nembeddings: candidate\n"
    )
    train = read_split(spark, load_recipe(config), data, "train")
    vectors = train.select("embeddings").first().embeddings
    assert {len(v.embeddings) for v in vectors} == {4}
    assert [list(v.embeddings) for v in vectors[:2]] == [[1, 0, 0, 0], [0, 0, 0, 0]]


def _split_notes(tmp_path):
    """A corpus already split into train/ and dev/ folders, as data/clinical_notes is."""
    for split, count in (("train", 4), ("dev", 2)):
        folder = tmp_path / "data" / "split_notes" / split
        folder.mkdir(parents=True)
        for i in range(count):
            text = f"Denies chest pain {i}."
            (folder / f"{split}{i}.txt").write_text(text)
            begin = text.index("chest pain")
            (folder / f"{split}{i}.ann").write_text(
                f"T1\tPROBLEM {begin} {begin + 10}\tchest pain\nA1\tAssertion T1 absent\n"
            )


def test_folder_splits_repeat_and_selection_corpora(spark, tmp_path):
    data = _data(tmp_path)
    _split_notes(tmp_path)
    config = tmp_path / "r.yaml"
    config.write_text(
        "name: r\nsplit_fractions: [0.5, 0.25, 0.25]\nbrat:\n"
        "  - {folder: notes, labels: maccrobat}\n"
        "  - {folder: split_notes, labels: notes, split: folders, repeat: 3}\n"
        "select_on: [split_notes]\n"
    )
    recipe = load_recipe(config)
    train = read_split(spark, recipe, data, "train").select("text", "label.result").collect()
    notes = [r for r in train if r.text.startswith("Denies")]
    assert len(notes) == 4 * 3 and len(train) - len(notes) == 10
    assert all(r.result == ["O", "B-PROBLEM", "I-PROBLEM", "O", "O"] for r in notes)
    dev = read_split(spark, recipe, data, "dev").select("text").collect()
    assert len(dev) == 2 + 5  # both corpora's dev splits, each note once
    chosen = read_split(spark, recipe, data, "dev", selection=True).select("text").collect()
    assert sorted(r.text for r in chosen) == ["Denies chest pain 0.", "Denies chest pain 1."]
    # The split corpus has no test/ folder: the test split is the other corpus's alone.
    assert read_split(spark, recipe, data, "test").count() == 5
    with pytest.raises(ValueError, match="no brat folder 'other'"):
        read_split(spark, recipe, data, "dev", "other")


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{folder: n, labels: notes, split: random}", "brat split is one of"),
        ("{folder: n, labels: notes, repeat: 0}", "brat repeat is a whole number"),
        ("{folder: n, labels: notes, repeat: 1.5}", "brat repeat is a whole number"),
        ("{folder: n, labels: notes, colour: red}", "may have 'split' and 'repeat'"),
    ],
)
def test_brat_entries_are_checked(tmp_path, entry, message):
    config = tmp_path / "r.yaml"
    config.write_text(f"name: r\nbrat: [{entry}]\n")
    with pytest.raises(ValueError, match=message):
        load_recipe(config)


def test_select_on_names_the_recipes_folders(tmp_path):
    config = tmp_path / "r.yaml"
    config.write_text("name: r\nbrat: [{folder: n, labels: notes}]\nselect_on: [m]\n")
    with pytest.raises(ValueError, match="select_on names brat folders"):
        load_recipe(config)
