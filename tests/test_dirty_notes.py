"""Any content, no crash, nothing lost: the full pretrained pipeline on dirty notes.

Through the LightPipeline (hypothesis drives arbitrary text) and through Spark (one table of
generated and pathological notes, with ids): one output row per input row, every token and
chunk inside its note with ``text[begin:end + 1] == result``, Spark equal to the
LightPipeline.
"""

from __future__ import annotations

import random

import pytest
from conftest import assert_offsets_valid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import FRAGMENTS, ODD_CHARS, SEPARATORS, TEXTS

from sparkner.pretrained import PretrainedPipeline

PATHOLOGICAL = {
    "megabyte": ("Fever and cough. " * 62_000)[:1_000_000],
    "one-word": "x" * 50_000,
    "no-punctuation": " ".join(["pain", "fever", "aspirin", "ct"] * 5_000),
    "tiny-sentences": "a. " * 30_000,
    "digits": "0123456789" * 500,
    "punctuation": "!?.,;:-()[]{}" * 400,
    "controls": "".join(chr(c) for c in range(32)) * 50 + "fever\x00\x1b[31m",
    "long-line": "word " * 20_000,
    "empty": "",
    "spaces": " \t\n\r\u00a0\u2028" * 100,
    "null": None,
}


@pytest.fixture(scope="module")
def clinical():
    return PretrainedPipeline("ner_clinical_pipeline")


def _check_row(text: str | None, row: dict) -> None:
    if not text:
        assert row["token"] == row["ner"] == row["ner_chunk"] == []
        return
    for column in ("document", "sentence", "token", "embeddings", "ner_chunk"):
        assert_offsets_valid(text, row[column])
    # One tag per token, on the token's span (a tag's result is the tag, not the text).
    spans = [(a.begin, a.end) for a in row["token"]]
    assert [(a.begin, a.end) for a in row["ner"]] == spans
    assert [(a.begin, a.end) for a in row["embeddings"]] == spans


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(TEXTS, st.none()), min_size=1, max_size=6))
def test_light_pipeline_on_any_text(clinical, texts):
    rows = clinical.fullAnnotate(texts)
    assert len(rows) == len(texts)
    for text, row in zip(texts, rows, strict=True):
        _check_row(text, row)


def _dirty_note(rng: random.Random) -> str:
    """Clinical fragments, separators, odd characters and random code points, mixed."""
    parts = []
    for _ in range(rng.randrange(1, 60)):
        kind = rng.random()
        if kind < 0.5:
            parts.append(rng.choice(FRAGMENTS))
        elif kind < 0.75:
            parts.append(rng.choice(SEPARATORS))
        elif kind < 0.9:
            parts.append(rng.choice(ODD_CHARS))
        else:
            code = rng.randrange(0x110000)
            parts.append("" if 0xD800 <= code <= 0xDFFF else chr(code))
    return "".join(parts)


def test_pathological_notes_in_spark_and_light(spark, clinical):
    rng = random.Random(7)
    generated = [_dirty_note(rng) for _ in range(40)]
    notes = [*PATHOLOGICAL.items(), *((f"generated-{i}", t) for i, t in enumerate(generated))]
    frame = spark.createDataFrame(notes, "id string, text string").repartition(3)
    rows = clinical.transform(frame).select("id", "text", "token", "ner_chunk").collect()
    assert sorted(r.id for r in rows) == sorted(k for k, _ in notes)  # every row, once
    light = dict(zip((k for k, _ in notes), clinical.fullAnnotate([t for _, t in notes]),
                     strict=True))  # fmt: skip
    for row in rows:
        expected = light[row.id]
        _check_row(row.text, expected)
        for column in ("token", "ner_chunk"):
            got = [(a.begin, a.end, a.result, a.metadata) for a in row[column]]
            want = [(a.begin, a.end, a.result, a.metadata) for a in expected[column]]
            assert got == want, (row.id, column)
