"""The lexicon store: round trip, damage detection, no pickle, caching, the bundled lexicon."""

from __future__ import annotations

import json
import pickle
import time

import numpy as np
import pytest

from sparkner.lexicon.matcher import LexiconError, build_lexicon, match_words, term_tokens
from sparkner.lexicon.store import (
    HEADER_FILE,
    TERMS_FILE,
    VOCABULARY_FILE,
    bundled_lexicon,
    load_lexicon,
    read_header,
    write_lexicon,
)
from sparkner.resources import bundled_folder

TERMS = {
    "PROBLEM": ["chest pain", "Sjögren syndrome", "Crohn's disease"],
    "TEST": ["echocardiogram", "chest x-ray"],
    "TREATMENT": ["metformin", "2.5 mg"],
}


def test_round_trip(tmp_path):
    header = write_lexicon(tmp_path, TERMS, name="tiny")
    assert header.terms == 7 and header.counts == {"PROBLEM": 3, "TEST": 2, "TREATMENT": 2}
    assert read_header(tmp_path) == header
    loaded = load_lexicon(tmp_path)
    assert sorted(loaded.terms()) == sorted(build_lexicon(TERMS).terms())
    assert loaded.name == "tiny" and loaded.fingerprint == header.fingerprint
    assert match_words(term_tokens("Crohn's disease"), loaded) == [(0, 3, "PROBLEM")]
    assert match_words(term_tokens("2.5 mg"), loaded) == [(0, 2, "TREATMENT")]


def test_output_does_not_depend_on_term_order(tmp_path):
    a = write_lexicon(tmp_path / "a", TERMS)
    b = write_lexicon(tmp_path / "b", {k: list(reversed(v)) for k, v in TERMS.items()})
    assert a.fingerprint == b.fingerprint
    assert (tmp_path / "a" / VOCABULARY_FILE).read_bytes() == (
        tmp_path / "b" / VOCABULARY_FILE
    ).read_bytes()


def test_loaded_anew_from_what_the_folder_holds(tmp_path):
    # A plain loader: the stage base keeps what a stage loads (sparkner.stages.cache).
    write_lexicon(tmp_path, TERMS)
    first = load_lexicon(tmp_path)
    assert load_lexicon(tmp_path) is not first
    write_lexicon(tmp_path, {"PROBLEM": ["fever"]})
    assert load_lexicon(tmp_path).terms() == [("PROBLEM", "fever")]


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda d: (d / VOCABULARY_FILE).write_text("chest\npain\n"), VOCABULARY_FILE),
        (lambda d: (d / VOCABULARY_FILE).write_bytes(b"\xff\xfe\n"), VOCABULARY_FILE),
        (lambda d: (d / TERMS_FILE).write_bytes((d / TERMS_FILE).read_bytes()[:50]), TERMS_FILE),
        (lambda d: (d / TERMS_FILE).unlink(), TERMS_FILE),
        (lambda d: (d / HEADER_FILE).write_text("{not json"), HEADER_FILE),
        (lambda d: (d / HEADER_FILE).write_text('{"format": "other", "version": 1}'), HEADER_FILE),
    ],
)
def test_damaged_store_is_refused_naming_the_file(tmp_path, damage, named):
    write_lexicon(tmp_path, TERMS)
    damage(tmp_path)
    with pytest.raises(LexiconError, match=named):
        load_lexicon(tmp_path)


def test_edited_arrays_fail_the_fingerprint(tmp_path):
    write_lexicon(tmp_path, TERMS)
    with np.load(tmp_path / TERMS_FILE) as arrays:
        data = dict(arrays)
    data["classes"] = np.zeros_like(data["classes"])  # every term made a PROBLEM
    np.savez_compressed(tmp_path / TERMS_FILE, **data)
    with pytest.raises(LexiconError, match="fingerprint"):
        load_lexicon(tmp_path)


def test_pickled_arrays_are_never_loaded(tmp_path, monkeypatch):
    write_lexicon(tmp_path, TERMS)
    header = json.loads((tmp_path / HEADER_FILE).read_text())
    objects = np.array([("chest", "pain")], dtype=object)
    np.savez(tmp_path / TERMS_FILE, lengths=objects, classes=objects, ids=objects)
    (tmp_path / HEADER_FILE).write_text(json.dumps({**header, "fingerprint": "0" * 16}))

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    with pytest.raises(LexiconError, match=TERMS_FILE):
        load_lexicon(tmp_path)


def test_newer_format_version_is_refused(tmp_path):
    write_lexicon(tmp_path, TERMS)
    header = json.loads((tmp_path / HEADER_FILE).read_text())
    (tmp_path / HEADER_FILE).write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(LexiconError, match="newer"):
        load_lexicon(tmp_path)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(LexiconError, match=HEADER_FILE):
        load_lexicon(tmp_path / "nowhere")


def test_bundled_lexicon_matches_clinical_terms():
    lexicon = bundled_lexicon()
    assert lexicon.classes == ("PROBLEM", "TEST", "TREATMENT")
    text = "Chest pain on exertion; started metformin; echocardiogram normal; Crohn’s disease."
    found = {text_: cls for text_, cls in _matches(text, lexicon)}
    assert found["Chest pain"] == "PROBLEM"
    assert found["metformin"] == "TREATMENT"
    assert found["echocardiogram"] == "TEST"
    assert found["Crohn’s disease"] == "PROBLEM"
    # Function words and stop words are not terms.
    assert not {"on", "normal", "started"} & {t.lower() for t in found}
    header = read_header(bundled_folder("lexicon_clinical", HEADER_FILE, "lexicon"))
    assert lexicon.counts == header.counts and len(lexicon) == header.terms > 100_000


def test_bundled_lexicon_is_small_and_loads_fast():
    folder = bundled_folder("lexicon_clinical", HEADER_FILE, "lexicon")
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < 4_000_000
    from sparkner.lexicon.store import _read_store

    header = read_header(folder)
    best = min(_timed(lambda: _read_store(folder, header)) for _ in range(3))
    assert best < 1.0  # generous: CI machines are slow and shared; ~0.1-0.2 s here


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _matches(text: str, lexicon) -> list[tuple[str, str]]:
    from tests_support import text_columns

    from sparkner.lexicon.matcher import match_lexicon

    documents, _, tokens = text_columns([text])
    (row,) = match_lexicon(documents, tokens, lexicon).to_pylist()
    return [(a["result"], dict(a["metadata"])["entity"]) for a in row]
