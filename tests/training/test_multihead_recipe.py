"""Recipes with ``heads``: the entries are checked, the further corpora (CoNLL with tags of
their own, partly labelled PHEE) go through the recipe's vectors and lexicon, and the tagger
shipped is the primary head alone, an ordinary tagger folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests_support import DRUGS, write_tiny_conll

from sparkner.training.ner import load_recipe

SETTINGS = (
    "settings: {maxEpochs: 2, lr: 0.01, batchSize: 8, randomSeed: 3, patience: 0, "
    "hiddenSize: 8, charFilters: 6}\n"
)
HEADS = (
    "heads:\n  - {name: drugs, conll: drugs/train.tsv, weight: 0.5}\n"
    "  - {name: phee, partial: phee}\n"
)
TEXTS = ["The patient has asthma .", "He takes aspirin daily .", "Rash after warfarin ."]


def write_data(root, dim: int = 8):
    """Primary CoNLL train/dev (Disease), a CoNLL corpus of drugs (Chemical), a PHEE training
    file, and a store of tiny vectors for all their words."""
    from sparkner.embeddings.store import write_store

    write_tiny_conll(root / "train.tsv", sentences=24)
    write_tiny_conll(root / "dev.tsv", sentences=8)
    (root / "drugs").mkdir()
    lines = [f"He\tO\ntakes\tO\n{d}\tB-Chemical\ndaily\tO\n.\tO\n" for d in DRUGS * 3]
    (root / "drugs" / "train.tsv").write_text("\n".join(lines))
    records = []
    for i, drug in enumerate(DRUGS * 2):
        context = f"Rash and nausea after {drug} in a patient."
        drug_mention = {"text": [[drug]], "start": [[context.index(drug)]]}
        event = {
            "event_id": "E1",
            "event_type": "Adverse_event",
            "Effect": {"text": [["Rash"]], "start": [[0]]},
            "Treatment": {**drug_mention, "Drug": drug_mention},
        }
        records.append({"id": f"{i}_1", "context": context, "annotations": [{"events": [event]}]})
    phee = root / "partial_labels" / "phee"
    phee.mkdir(parents=True)
    (phee / "train.json").write_text("".join(json.dumps(r) + "\n" for r in records))
    words = set()
    for path in (root / "train.tsv", root / "dev.tsv", root / "drugs" / "train.tsv"):
        words |= {line.split("\t")[0] for line in path.read_text().splitlines() if line}
    words |= {w.strip(".") for r in records for w in r["context"].split()} | {"."}
    words = sorted(w.lower() for w in words)
    vectors = np.random.default_rng(0).normal(size=(len(words), dim))
    write_store(root / "vectors", words, vectors, "tiny_vectors")
    return root


def recipe_file(root, extra: str = "", heads: str = HEADS):
    path = root / "r.yaml"
    path.write_text(
        f"name: tiny\ntrain: train.tsv\ndev: dev.tsv\nembeddings: vectors\n{extra}{heads}{SETTINGS}"
    )
    return path


@pytest.mark.parametrize(
    ("heads", "message"),
    [
        ("heads: {name: x}\n", r"heads must be a list"),
        ("heads: [{conll: a/train.tsv}]\n", r"heads\[0\] \(\{'conll'.*name must be an identifier"),
        ("heads: [{name: 2x, conll: a/train.tsv}]\n", r"heads\[0\].*identifier"),
        (
            "heads: [{name: a, conll: x/train.tsv}, {name: a, partial: phee}]\n",
            r"heads\[1\] \(\{'name': 'a'.*name 'a' is taken",
        ),
        ("heads: [{name: tiny, partial: phee}]\n", r"heads\[0\].*'tiny' is taken"),
        ("heads: [{name: a}]\n", r"heads\[0\].*exactly one of 'conll'.*'partial' or 'brat'"),
        ("heads: [{name: a, conll: x/train.tsv, partial: phee}]\n", r"exactly one of"),
        ("heads: [{name: a, partial: phee, weight: 0}]\n", r"heads\[0\].*positive number"),
        ("heads: [{name: a, partial: phee, weight: -1}]\n", r"positive number"),
        ("heads: [{name: a, partial: phee, weight: yes}]\n", r"positive number"),
        ("heads: [{name: a, partial: mimic}]\n", r"heads\[0\].*partial is one of \['phee'"),
        ("heads: [{name: a, partial: phee, split: dev}]\n", r"heads\[0\].*split is one of"),
        ("heads: [{name: a, partial: phee, color: red}]\n", r"heads\[0\].*expected a mapping"),
        ("heads: [{name: a, brat: maccrobat}]\n", r"heads\[0\].*brat head needs labels"),
        (
            "heads: [{name: a, conll: bc5cdr/dev.tsv}]\n",
            r"heads\[0\].*'bc5cdr/dev\.tsv' looks "
            r"like a dev or test split",
        ),
        ("heads: [{name: a, conll: ncbi_disease/test.tsv}]\n", r"dev or test split"),
        ("heads: [{name: a, conll: dev.tsv}]\n", r"dev or test split"),
        ("heads: [{name: a, conll: ''}]\n", r"conll must name a file"),
        (
            "heads: [{name: a, partial: phee}]\nsettings: {validationSplit: 0.1}\n",
            r"leave settings\.validationSplit out",
        ),
    ],
)
def test_heads_entries_are_checked_and_errors_name_the_file_and_entry(tmp_path, heads, message):
    path = tmp_path / "r.yaml"
    path.write_text(f"name: tiny\ntrain: train.tsv\ndev: dev.tsv\n{heads}")
    with pytest.raises(ValueError, match=message) as error:
        load_recipe(path)
    assert str(error.value).startswith(f"{path}: ")


def test_valid_heads_are_read_and_a_recipe_without_heads_has_none(tmp_path):
    from sparkner.training.multihead import primary_head

    recipe = load_recipe(recipe_file(tmp_path))
    assert [h["name"] for h in recipe.heads] == ["drugs", "phee"]
    assert primary_head(recipe) == "tiny"
    assert load_recipe(recipe_file(tmp_path, heads="")).heads == []
    recipe.name = "ner-tiny"
    assert primary_head(recipe) == "main"


def test_auxiliary_corpora_get_the_recipes_vectors_and_partial_spans_as_tags(spark, tmp_path):
    from sparkner.embeddings.store import open_store
    from sparkner.training.multihead import auxiliary_frames
    from sparkner.training.ner import read_split

    data = write_data(tmp_path)
    recipe = load_recipe(recipe_file(tmp_path))
    drugs, phee = auxiliary_frames(spark, recipe, data)
    assert drugs.columns == read_split(spark, recipe, data, "train").columns
    row = phee.select("token.result", "label.result", "embeddings").first()
    tokens, tags = row[0], row[1]
    assert tokens[:4] == ["Rash", "and", "nausea", "after"]
    assert tags == ["B-PROBLEM", "O", "O", "O", "B-TREATMENT", "O", "O", "O", "O"]
    # The store's vector of each token (by WordEmbeddingsModel's case rule), none unknown.
    store = open_store(str(data / "vectors"))
    rows = store.lookup(tokens, case_sensitive=False)
    looked_up = np.array([a.embeddings for a in row[2]], np.float32)
    assert (rows >= 0).all()
    np.testing.assert_array_equal(looked_up, store.vectors_for(rows))


def pipeline_stages(recipe, data, model):
    from sparkner import DocumentAssembler, SentenceDetector, Tokenizer
    from sparkner.annotators.lexicon_matcher import LexiconMatcherModel
    from sparkner.training.ner import LEXICON_COLUMN, recipe_vectors

    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer(), recipe_vectors(recipe, data)]
    if recipe.lexicon:
        matcher = LexiconMatcherModel.pretrained(recipe.lexicon)
        stages.append(matcher.setInputCols(["document", "token"]).setOutputCol(LEXICON_COLUMN))
    return [*stages, model]


def assert_tags_alike_in_light_and_spark(spark, stages):
    from pyspark.ml import PipelineModel

    from sparkner import LightPipeline

    pipeline = PipelineModel(stages=stages)
    light = [r["ner"] for r in LightPipeline(pipeline).annotate(TEXTS)]
    frame = spark.createDataFrame([(t,) for t in TEXTS], "text string")
    tagged = [[a.result for a in r.ner] for r in pipeline.transform(frame).collect()]
    assert tagged == light and [len(t) for t in light] == [5, 5, 4]


@pytest.mark.slow
def test_a_recipe_with_heads_ships_the_primary_head_as_an_ordinary_tagger(spark, tmp_path):
    from sparkner.annotators.ner_dl import NerDLModel
    from sparkner.training.ner import train_recipe

    data = write_data(tmp_path)
    recipe = load_recipe(recipe_file(tmp_path))
    model, _ = train_recipe(spark, recipe, data)
    assert model.tags() == ["O", "B-Disease", "I-Disease"]
    record = model.training_record()
    assert [(h["name"], h["kind"], h["sentences"], h["weight"]) for h in record["heads"]] == [
        ("tiny", "primary", 24, 1.0),
        ("drugs", "conll", 15, 0.5),
        ("phee", "partial", 10, 1.0),
    ]
    assert len(record["epochs"]) == 2 and "selection" not in record
    assert set(record["epochs"][0]["head_loss"]) == {"tiny", "drugs", "phee"}
    assert "f1" in record["epochs"][-1]["test"] and "f1" in record["test"]
    # An ordinary tagger folder: it loads as any tagger does, and tags alike everywhere.
    loaded = NerDLModel().attach_files(model.files_folder())
    assert loaded.tags() == model.tags() and loaded.lexicon_classes() == []
    assert_tags_alike_in_light_and_spark(spark, pipeline_stages(recipe, data, loaded))


@pytest.mark.slow
def test_refit_with_heads_and_a_lexicon_records_the_selection(spark, tmp_path):
    from sparkner.training.ner import kept_epoch, train_recipe

    data = write_data(tmp_path)
    recipe = load_recipe(recipe_file(tmp_path, "refit: true\nlexicon: lexicon_clinical\n"))
    model, _ = train_recipe(spark, recipe, data)
    record = model.training_record()
    selection = record["selection"]
    assert selection["training_sentences"] == 24 and len(selection["epochs"]) == 2
    assert record["refit_epochs"] == kept_epoch(selection) == len(record["epochs"])
    assert record["training_sentences"] == 32 and "test" not in record
    assert [h["name"] for h in record["heads"]] == ["tiny", "drugs", "phee"]
    assert [h["name"] for h in selection["heads"]] == ["tiny", "drugs", "phee"]
    assert model.lexicon_classes() and record["lexicon"] == "lexicon_clinical"
    assert_tags_alike_in_light_and_spark(spark, pipeline_stages(recipe, data, model))
