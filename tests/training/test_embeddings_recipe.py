"""The embeddings recipe: config checks, train-only text, and a real (tiny) build."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sparkner.embeddings.store import EmbeddingStore
from sparkner.training.embeddings import (
    EmbeddingsConfig,
    build_embeddings,
    load_config,
    source_texts,
    subword_candidates,
    tokenized_sentences,
)
from sparkner.training.splits import split_keys

REPO = Path(__file__).resolve().parents[2]


def make_data(root: Path) -> None:
    """A miniature of ../shared/data: MTSamples CSV, a TSV, a brat folder of 10 trials."""
    (root / "unlabeled").mkdir(parents=True)
    with open(root / "unlabeled" / "notes.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "transcription"])
        for i in range(40):
            writer.writerow(
                [
                    i,
                    "HISTORY:, The patient has hypertension and takes metformin. "
                    "CT of the chest was normal. Dyspnea improved.",
                ]
            )
    (root / "tsv").mkdir()
    (root / "tsv" / "train.tsv").write_text("Aspirin\tB-Chemical\ninduced\tO\n\nasthma\tB-D\n")
    (root / "brat").mkdir()
    for i in range(10):
        for part in ("inc", "exc"):
            (root / "brat" / f"NCT{i:08d}_{part}.txt").write_text(f"trialword{i} {part}\n")
            (root / "brat" / f"NCT{i:08d}_{part}.ann").write_text("")


def tiny_config(**overrides) -> EmbeddingsConfig:
    settings = dict(
        name="tiny",
        dimension=8,
        min_count=1,
        epochs=2,
        workers=1,
        dtype="float32",
        mtsamples=["unlabeled/notes.csv"],
        conll_train=["tsv/train.tsv"],
        brat_train=["brat"],
    )
    settings.update(overrides)
    return EmbeddingsConfig(**settings)


def test_bundled_config_loads():
    config = load_config(REPO / "conf" / "embeddings_clinical.yaml")
    assert config.name == "embeddings_clinical" and config.dimension == 200
    # Version 2 of the vectors: taggers trained on version 1 ("embeddings_clinical") refuse it.
    assert config.storage_ref == "embeddings_clinical_v2"
    assert all("test" not in p and "dev" not in p for p in config.conll_train)


def test_unknown_config_key_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndimensions: 3\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown setting\(s\) \['dimensions'\]"):
        load_config(path)


def test_only_training_documents_reach_the_corpus(tmp_path):
    make_data(tmp_path)
    texts = [text for _, text in source_texts(tiny_config(mtsamples=[]), tmp_path)]
    splits = split_keys(f"NCT{i:08d}" for i in range(10))
    for i in range(10):
        included = any(f"trialword{i} " in t for t in texts)
        assert included == (splits[f"NCT{i:08d}"] == "train")


def test_sentences_are_tokenized_and_lowercased(tmp_path):
    make_data(tmp_path)
    counts: Counter[str] = Counter()
    sentences = list(tokenized_sentences(tiny_config(brat_train=[]), tmp_path, counts))
    assert ["the", "patient", "has", "hypertension", "and", "takes", "metformin", "."] in sentences
    assert ["aspirin", "induced"] in sentences
    assert counts["tsv/train.tsv"] == 3


def test_missing_source_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"unlabeled/nope\.csv: not found"):
        list(source_texts(tiny_config(mtsamples=["unlabeled/nope.csv"]), tmp_path))


def test_tiny_build_writes_a_usable_store(tmp_path):
    pytest.importorskip("gensim")
    make_data(tmp_path / "data")
    stats = build_embeddings(tiny_config(), tmp_path / "data", tmp_path / "store")
    store = EmbeddingStore(tmp_path / "store")
    assert store.dimension == 8 and store.header.storage_ref == "tiny"
    assert store.lookup(["Hypertension"], case_sensitive=False)[0] >= 0
    assert stats["vocabulary"] == store.header.count
    assert json.loads((tmp_path / "store" / "build.json").read_text())["tokens"] == stats["tokens"]
    # A storage_ref, where the recipe gives one, is what the store (and its taggers) record.
    build_embeddings(tiny_config(storage_ref="tiny_v2"), tmp_path / "data", tmp_path / "v2")
    assert EmbeddingStore(tmp_path / "v2").header.storage_ref == "tiny_v2"


def test_subword_settings_are_checked_and_named(tmp_path):
    path = tmp_path / "sub.yaml"
    path.write_text("name: x\nsubword_words: 10\n")
    with pytest.raises(ValueError, match=r"sub.yaml: subword_words needs subword: true"):
        load_config(path)
    with pytest.raises(ValueError, match=r"min_n and max_n"):
        tiny_config(subword=True, min_n=5, max_n=3)
    with pytest.raises(ValueError, match=r"bucket must be 0 or more"):
        tiny_config(subword=True, bucket=-1)


def test_subword_candidates_are_the_most_frequent_words_outside_the_vocabulary():
    counts = Counter({"fever": 9, "rarez": 2, "rarea": 2, "once": 1, "cough": 5})
    assert subword_candidates(counts, {"fever", "cough"}, 2) == ["rarea", "rarez"]
    assert subword_candidates(counts, {"fever", "cough"}, 0) == []
    assert subword_candidates(counts, set(counts), 5) == []


def test_subword_build_precomputes_vectors_for_words_below_the_cut(tmp_path):
    pytest.importorskip("gensim")
    make_data(tmp_path / "data")
    config = tiny_config(min_count=3, subword=True, min_n=2, max_n=4, bucket=500, subword_words=3)
    stats = build_embeddings(config, tmp_path / "data", tmp_path / "store")
    store = EmbeddingStore(tmp_path / "store")
    assert stats["subword_words"] == 3 and store.header.count == stats["vocabulary"]
    extra = store.words[-3:]
    # The train trials' words occur twice (below min_count 3), the TSV's words once.
    assert all(w.startswith("trialword") for w in extra) and extra == sorted(extra)
    assert store.lookup(["aspirin"], case_sensitive=False)[0] == -1
    rows = store.lookup([*extra, "hypertension"], case_sensitive=False)
    assert (rows >= 0).all()
    vectors = store.vectors_for(rows)
    assert np.isfinite(vectors).all() and (np.abs(vectors).sum(axis=1) > 0).all()
