"""Any content, no crash, nothing lost: the full pretrained pipeline on dirty notes.

Through the LightPipeline (hypothesis drives arbitrary text), through Spark (one table of
generated and pathological notes, with ids) and through the ``sparkner annotate`` job (the
same notes as Parquet, all stages in one UDF): one output row per input row, every token and
chunk inside its note with ``text[begin:end + 1] == result``, Spark and the job equal to the
LightPipeline.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import (
    FRAGMENTS,
    ODD_CHARS,
    SEPARATORS,
    TEXTS,
    assert_offsets_valid,
    light_entity_rows,
)

from sparkner.apps.annotate import AnnotateJob, annotate
from sparkner.runtime.udf import has_arrow_udf

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def dirty_notes() -> list[tuple[str, str | None]]:
    """(id, text): the pathological notes, then 40 random dirty ones."""
    rng = random.Random(7)
    generated = [_dirty_note(rng) for _ in range(40)]
    return [*PATHOLOGICAL.items(), *((f"generated-{i}", t) for i, t in enumerate(generated))]


@pytest.fixture(scope="module")
def light_rows(clinical, dirty_notes) -> dict[str, dict]:
    """The LightPipeline's annotations of each dirty note, by id, offsets checked."""
    rows = clinical.fullAnnotate([t for _, t in dirty_notes])
    for (_, text), row in zip(dirty_notes, rows, strict=True):
        _check_row(text, row)
    return dict(zip((k for k, _ in dirty_notes), rows, strict=True))


# Spark parity needs every kind of content, not every megabyte: the full sizes go through the
# LightPipeline (``light_rows``, offsets checked); Spark gets each note's first 20,000
# characters, compared with the LightPipeline's annotations of the same characters.
SPARK_CHARS = 20_000


def test_pathological_notes_in_spark_and_light(spark, clinical, dirty_notes):
    notes = [(k, t if t is None else t[:SPARK_CHARS]) for k, t in dirty_notes]
    light_rows = dict(
        zip((k for k, _ in notes), clinical.fullAnnotate([t for _, t in notes]), strict=True)
    )
    frame = spark.createDataFrame(notes, "id string, text string").repartition(3)
    rows = clinical.transform(frame).select("id", "text", "token", "ner_chunk").collect()
    assert sorted(r.id for r in rows) == sorted(k for k, _ in notes)  # every row, once
    for row in rows:
        expected = light_rows[row.id]
        for column in ("token", "ner_chunk"):
            got = [(a.begin, a.end, a.result, a.metadata) for a in row[column]]
            want = [(a.begin, a.end, a.result, a.metadata) for a in expected[column]]
            assert got == want, (row.id, column)


def test_annotate_job_on_pathological_notes(spark, dirty_notes, light_rows, tmp_path):
    """``sparkner annotate``'s job (all stages in one UDF) on the same notes but the 1 MB one
    (it would double the test's time), as Parquet: every row counted, every entity at its
    offsets, the table equal to the LightPipeline's chunks (confidences to their 4 decimals,
    as the tagger writes them)."""
    assert has_arrow_udf(), "the job would run stage by stage, not in one UDF"
    notes = [(k, t) for k, t in dirty_notes if k != "megabyte"]
    light = {k: light_rows[k] for k, _ in notes}
    source, output = tmp_path / "notes.parquet", tmp_path / "entities"
    pd.DataFrame(notes, columns=["id", "text"]).to_parquet(source)
    job = AnnotateJob(str(source), str(output), id_col="id", partitions=3)
    summary = annotate(spark, job, progress=None)
    rows = spark.read.parquet(str(output)).collect()
    texts = dict(notes)
    for row in rows:
        assert 0 <= row.begin <= row.end < len(texts[row.id]), (row.id, row.begin, row.end)
        assert texts[row.id][row.begin : row.end + 1] == row.chunk, row.id
    got = sorted(
        (r.id, r.begin, r.end, r.chunk, r.entity, r.sentence, f"{r.confidence:.4f}") for r in rows
    )
    expected = light_entity_rows(list(light.items()))
    assert got == expected and expected
    assert summary.rows_read == len(notes)
    assert summary.entities == len(rows)
    assert summary.notes_with_entities == sum(1 for r in light.values() if r["ner_chunk"])
    assert summary.tokens == sum(len(r["token"]) for r in light.values())
