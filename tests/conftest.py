"""Shared fixtures only: one local[2] SparkSession for the whole run, the MTSamples notes, the
text stages and the bundled clinical pipeline. Helpers and paths are in tests_support.py."""

from __future__ import annotations

import lzma

import pandas as pd
import pytest
from tests_support import SHARED_DATA


@pytest.fixture(scope="session")
def spark():
    import sparkner

    session = sparkner.start(master="local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def mtsamples_notes() -> list[str]:
    """The MTSamples transcriptions (../shared/data), in file order."""
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


@pytest.fixture(scope="session")
def clinical():
    """``PretrainedPipeline("ner_clinical_pipeline")``, loaded once (its TensorFlow tagger takes
    seconds); no test changes it."""
    from sparkner.apps.pretrained import PretrainedPipeline

    return PretrainedPipeline("ner_clinical_pipeline")
