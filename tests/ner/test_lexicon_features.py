"""Lexicon features of the tagger: a code per token from the lexicon column, fed as a one-hot
beside the word vector; taggers without them keep their weights and files exactly."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from sparkner.core.annotation import LEXICON, TOKEN, build_annotations
from sparkner.lexicon.matcher import (
    build_lexicon,
    match_lexicon,
    token_class_labels,
    token_classes,
)
from sparkner.ner.config import CONFIG_FILE, read_config
from sparkner.ner.data import SentenceSet, lexicon_codes
from sparkner.ner.network import TaggerConfig, TaggerFileError, TaggerNetwork
from sparkner.ner.tagger import Tagger


def _tokens(rows: list[list[str]], sentences: list[list[int]] | None = None) -> pa.Array:
    """Token annotations of space-separated words, with their offsets in each row's text."""
    begins, ends, words, counts, sentence = [], [], [], [], []
    for r, row in enumerate(rows):
        position = 0
        for k, word in enumerate(row):
            begins.append(position)
            ends.append(position + len(word) - 1)
            words.append(word)
            sentence.append(str(sentences[r][k] if sentences else 0))
            position += len(word) + 1
        counts.append(len(row))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return build_annotations(TOKEN, offsets, begins, ends, words, {"sentence": sentence})


def _matches(rows: list[list[tuple[int, int, str]]]) -> pa.Array:
    flat = [m for row in rows for m in row]
    offsets = np.concatenate([[0], np.cumsum([len(row) for row in rows])])
    return build_annotations(
        LEXICON,
        offsets,
        [m[0] for m in flat],
        [m[1] for m in flat],
        ["x"] * len(flat),
        {"entity": [m[2] for m in flat], "sentence": ["0"] * len(flat)},
    )


def test_codes_mark_the_first_and_inner_tokens_of_each_match_in_its_row():
    # Row 0: "The colon cancer and gout" ; row 1: "aspirin daily"
    tokens = _tokens([["The", "colon", "cancer", "and", "gout"], ["aspirin", "daily"]])
    lexicon = _matches([[(4, 15, "DISEASE"), (21, 24, "DISEASE")], [(0, 6, "DRUG")]])
    codes = lexicon_codes(tokens, lexicon, ["DISEASE", "DRUG"])
    assert codes.dtype == np.int32
    assert codes.tolist() == [0, 1, 2, 0, 1, 3, 0]  # O, B-D, I-D, O, B-D | B-DRUG, O
    # The same offsets in another row do not matter: row 1's match is not row 0's "The".
    assert lexicon_codes(tokens, lexicon, ["DRUG"]).tolist() == [0, 0, 0, 0, 0, 1, 0]
    # A class the tagger never saw is O; so is everything without a lexicon column.
    assert lexicon_codes(tokens, lexicon, ["OTHER"]).tolist() == [0] * 7
    assert lexicon_codes(tokens, None, ["DRUG"]).tolist() == [0] * 7


def test_codes_of_empty_and_null_rows_and_unsorted_classes():
    tokens = pa.array([None, [], *_tokens([["a", "b", "c"]]).to_pylist()], _tokens([["a"]]).type)
    lexicon = pa.array([[], None, *_matches([[(2, 4, "Y")]]).to_pylist()], _matches([[]]).type)
    # classes in any order: the code is the class's position in the tagger's list
    assert lexicon_codes(tokens, lexicon, ["X", "Y"]).tolist() == [0, 3, 4]
    assert lexicon_codes(tokens, lexicon, ["Y", "X"]).tolist() == [0, 1, 2]
    assert lexicon_codes(tokens[:0], lexicon[:0], ["Y"]).tolist() == []
    with pytest.raises(ValueError, match="lexicon column has 2 rows, the tokens 3"):
        lexicon_codes(tokens, lexicon[:2], ["Y"])


def test_codes_agree_with_the_matchers_token_classes():
    lexicon = build_lexicon({"PROBLEM": ["chest pain", "fever"], "TEST": ["chest x-ray"]})
    rows = [["Chest", "pain", "and", "fever", "."], ["A", "chest", "x-ray", "was", "done"]]
    tokens = _tokens(rows, sentences=[[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]])
    texts = [" ".join(r) for r in rows]
    documents = build_annotations(
        "document",
        np.array([0, 1, 2]),
        [0, 0],
        [len(t) - 1 for t in texts],
        texts,
        {"sentence": ["0", "0"]},
    )
    matches = match_lexicon(documents, tokens, lexicon)
    codes = lexicon_codes(tokens, matches, list(lexicon.classes))
    np.testing.assert_array_equal(codes, token_classes(tokens, lexicon))
    names = token_class_labels(lexicon)
    assert [names[c] for c in codes] == [
        "B-PROBLEM",
        "I-PROBLEM",
        "O",
        "B-PROBLEM",
        "O",
        "O",
        "B-TEST",
        "I-TEST",
        "O",
        "O",
    ]
    config = TaggerConfig(tags=["O"], chars=[], word_dim=1, lexicon_classes=["PROBLEM", "TEST"])
    assert config.lexicon_labels() == names and config.lexicon_width == 5


def test_subset_keeps_the_codes():
    sentences = SentenceSet(
        np.arange(5, dtype=np.int32),
        np.zeros(5, np.int16),
        np.array([0, 2, 5]),
        np.array([1, 2, 0, 3, 4], np.int32),
    )
    assert sentences.subset(np.array([1])).lexicon.tolist() == [0, 3, 4]
    plain = SentenceSet(sentences.word_ids, sentences.tag_ids, sentences.offsets)
    assert plain.subset(np.array([0])).lexicon is None


def _network(classes: list[str]) -> TaggerNetwork:
    config = TaggerConfig(
        tags=["O", "B-X", "I-X"], chars=list("abc"), word_dim=4, hidden=5, lexicon_classes=classes
    )
    network = TaggerNetwork(config, seed=2)
    rng = np.random.default_rng(0)
    for v in network.variables:
        v.assign(rng.normal(scale=0.5, size=v.shape).astype(np.float32))
    return network


def test_the_first_lstm_layer_grows_by_the_one_hot_only():
    plain, featured = _network([]), _network(["A", "B"])
    shapes = {v.name: tuple(v.shape) for v in plain.variables}
    grown = {v.name: tuple(v.shape) for v in featured.variables}
    assert set(shapes) == set(grown)
    for name, shape in shapes.items():
        if name.startswith("lstm0_") and "kernel" in name:
            assert grown[name] == (shape[0] + 5, shape[1])  # O + B/I of two classes
        else:
            assert grown[name] == shape, name


def test_tagger_uses_the_codes_and_saves_its_classes(tmp_path):
    network = _network(["A"])
    tagger = Tagger(network)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(6, 4)).astype(np.float32)
    chars = rng.integers(0, 5, size=(6, 30)).astype(np.int32)
    offsets = np.array([0, 4, 6])
    none = tagger.predict(vectors, chars, offsets, lexicon=np.zeros(6, np.int32))
    some = tagger.predict(vectors, chars, offsets, lexicon=np.array([1, 2, 0, 0, 1, 0]))
    assert not np.allclose(none[1], some[1])
    with pytest.raises(ValueError, match=r"trained with lexicon features \['A'\]"):
        tagger.predict(vectors, chars, offsets)
    network.save(tmp_path / "featured")
    assert read_config(tmp_path / "featured").lexicon_classes == ["A"]
    loaded = Tagger(TaggerNetwork.load(tmp_path / "featured"))
    again = loaded.predict(vectors, chars, offsets, lexicon=np.array([1, 2, 0, 0, 1, 0]))
    np.testing.assert_array_equal(some[0], again[0])
    np.testing.assert_allclose(some[1], again[1], atol=1e-6)
    with pytest.raises(ValueError, match="trained without lexicon features"):
        Tagger(_network([])).predict(vectors, chars, offsets, lexicon=np.zeros(6, np.int32))


def test_a_tagger_without_lexicon_writes_no_key_and_old_files_load(tmp_path):
    _network([]).save(tmp_path / "plain")
    data = json.loads((tmp_path / "plain" / CONFIG_FILE).read_text())
    assert "lexicon_classes" not in data  # its tagger.json is as before
    assert read_config(tmp_path / "plain").lexicon_classes == []
    data["lexicon_classes"] = ["A", "A"]
    (tmp_path / "plain" / CONFIG_FILE).write_text(json.dumps(data))
    with pytest.raises(TaggerFileError, match="lexicon_classes"):
        read_config(tmp_path / "plain")


def test_a_featured_tagger_refuses_weights_without_the_features(tmp_path):
    _network([]).save(tmp_path / "plain")
    path = tmp_path / "plain" / CONFIG_FILE
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "lexicon_classes": ["A"]}))
    with pytest.raises(TaggerFileError, match="lstm0_fw_kernel"):
        TaggerNetwork.load(tmp_path / "plain")


def test_bundled_taggers_lexicon_features():
    """ner_clinical (version 5 on) reads lexicon_clinical's classes and says so in its record;
    ner_bc5cdr reads none (its file has no such key, as taggers before the lexicon had)."""
    from sparkner.resources import bundled_folder

    clinical = bundled_folder("ner_clinical", CONFIG_FILE, "tagger")
    config = read_config(clinical)
    assert config.lexicon_classes == ["PROBLEM", "TEST", "TREATMENT"]
    assert config.lexicon_width == 7 and config.extra["lexicon"] == "lexicon_clinical"
    bc5cdr = bundled_folder("ner_bc5cdr", CONFIG_FILE, "tagger")
    assert "lexicon_classes" not in json.loads((bc5cdr / CONFIG_FILE).read_text())
    assert read_config(bc5cdr).lexicon_width == 0
