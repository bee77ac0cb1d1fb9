"""The embeddings store: written once, opened memory-mapped, damaged stores refused clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparkner.embeddings.store import (
    EmbeddingStore,
    StoreError,
    open_store,
    read_header,
    write_store,
)

WORDS = ["chest", "pain", "CT", "Dr."]
MATRIX = np.arange(12, dtype=np.float32).reshape(4, 3)


@pytest.fixture
def store_dir(tmp_path):
    folder = tmp_path / "store"
    write_store(folder, WORDS, MATRIX, storage_ref="tiny")
    return folder


def test_round_trip_is_memory_mapped(store_dir):
    store = EmbeddingStore(store_dir)
    assert isinstance(store.vectors, np.memmap)
    assert store.header.storage_ref == "tiny" and store.dimension == 3
    np.testing.assert_array_equal(store.vectors, MATRIX)


def test_float16_halves_the_file(tmp_path):
    header = write_store(tmp_path / "s", WORDS, MATRIX, "tiny", dtype="float16")
    store = EmbeddingStore(tmp_path / "s")
    assert header.dtype == "float16" and store.vectors.dtype == np.float16
    np.testing.assert_allclose(store.vectors_for(np.array([1])), MATRIX[[1]])


def test_lookup_exact_then_lower_then_upper(store_dir):
    store = EmbeddingStore(store_dir)
    words = ["chest", "Chest", "CHEST", "ct", "Ct", "dr.", "Pain", "unknown"]
    # "dr." is neither "dr." nor "DR." in lower or upper case: only those three are tried.
    assert store.lookup(words, case_sensitive=False).tolist() == [0, 0, 0, 2, 2, -1, 1, -1]
    assert store.lookup(words, case_sensitive=True).tolist() == [0, -1, -1, -1, -1, -1, -1, -1]


def test_unknown_rows_get_zero_vectors(store_dir):
    store = EmbeddingStore(store_dir)
    vectors = store.vectors_for(np.array([2, -1]))
    assert vectors.dtype == np.float32
    assert vectors.tolist() == [MATRIX[2].tolist(), [0.0, 0.0, 0.0]]


def test_open_store_opens_anew_and_caches_nothing(store_dir):
    # What a stage loads is kept by the stage base (sparkner.stages.cache), not here.
    first, second = open_store(store_dir), open_store(store_dir)
    assert first is not second and first.words == second.words


def test_nearest_neighbours(tmp_path):
    words = ["a", "b", "c"]
    matrix = np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    write_store(tmp_path / "s", words, matrix, "n")
    assert [w for w, _ in EmbeddingStore(tmp_path / "s").nearest("a", 2)] == ["b", "c"]


def test_words_with_line_breaks_are_left_out(tmp_path):
    header = write_store(tmp_path / "s", ["ok", "bad\nword"], MATRIX[:2], "x")
    assert header.count == 1 and EmbeddingStore(tmp_path / "s").words == ["ok"]


def test_newer_format_version_is_refused(store_dir):
    path = store_dir / "store.json"
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="format version 99 is newer than this sparkner reads"):
        read_header(store_dir)


@pytest.mark.parametrize("damage", ["truncate_vectors", "drop_words", "bad_json", "no_header"])
def test_damaged_stores_are_refused_with_the_file_named(store_dir, damage):
    if damage == "truncate_vectors":
        data = (store_dir / "vectors.npy").read_bytes()
        (store_dir / "vectors.npy").write_bytes(data[: len(data) - 10])
        expected = "vectors.npy"
    elif damage == "drop_words":
        (store_dir / "words.txt").write_text("chest\npain\n")
        expected = "words.txt: holds 2 words, the header says 4"
    elif damage == "bad_json":
        (store_dir / "store.json").write_text("{not json")
        expected = "store.json: not valid JSON"
    else:
        (store_dir / "store.json").unlink()
        expected = "not a sparkner embeddings store"
    with pytest.raises(StoreError, match=expected):
        EmbeddingStore(store_dir)


def test_a_pickle_in_the_store_is_never_loaded(store_dir):
    """vectors.npy holding a pickled object array must be refused, not unpickled."""
    np.save(store_dir / "vectors.npy", np.array([{"x": 1}] * 4, dtype=object), allow_pickle=True)
    with pytest.raises(StoreError):
        EmbeddingStore(store_dir)
