"""Shared fixtures: one local[2] SparkSession for the whole run, and the MTSamples notes."""

from __future__ import annotations

import lzma
import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SPARKNER_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def spark():
    import sparkner

    session = sparkner.start(master="local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def mtsamples_notes() -> list[str]:
    """The 4,966 MTSamples transcriptions (../shared/data), in file order."""
    path = SHARED_DATA / "unlabeled" / "mtsamples.csv.xz"
    if not path.exists():
        pytest.skip(f"MTSamples data not found at {path} (set SPARKNER_SHARED_DATA)")
    with lzma.open(path) as handle:
        frame = pd.read_csv(handle)
    return frame["transcription"].dropna().tolist()


@pytest.fixture(scope="session")
def text_pipeline_stages():
    from sparkner import DocumentAssembler, SentenceDetector, Tokenizer

    return [DocumentAssembler(), SentenceDetector(), Tokenizer()]


def assert_offsets_valid(text: str, annotations) -> None:
    """``text[begin:end + 1] == result`` for every annotation (dicts or Annotation objects)."""
    for a in annotations:
        if isinstance(a, dict):
            begin, end, result = a["begin"], a["end"], a["result"]
        else:
            begin, end, result = a.begin, a.end, a.result
        assert 0 <= begin <= end < len(text), (begin, end, len(text))
        assert text[begin : end + 1] == result, (begin, end, result)
