"""Normalizer and StopWordsCleaner as stages: Spark and the LightPipeline agree."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline

from sparkner import DocumentAssembler, LightPipeline, Tokenizer
from sparkner.annotator import Normalizer, NormalizerModel, StopWordsCleaner

TEXT = "The pt denies Chest-pain, 10 mg."


@pytest.mark.slow  # a Spark job
def test_normalized_tokens_keep_their_spans(spark, tmp_path):
    slang = tmp_path / "slang.txt"
    slang.write_text("pt,patient\n")
    stages = [
        DocumentAssembler(),
        Tokenizer().setInputCols(["document"]),
        StopWordsCleaner().setInputCols(["token"]).setOutputCol("clean"),
        Normalizer()
        .setInputCols(["clean"])
        .setOutputCol("normalized")
        .setLowercase(True)
        .setSlangDictionary(str(slang), ","),
    ]
    data = spark.createDataFrame([(TEXT,), (None,)], "text string")
    model = Pipeline(stages=stages).fit(data)
    tokens = Pipeline(stages=stages[:3]).fit(data).transform(data)
    assert isinstance(stages[-1].fit(tokens), NormalizerModel)
    rows = model.transform(data).collect()
    normalized = [(t.begin, t.end, t.result) for t in rows[0].normalized]
    assert normalized == [
        (4, 5, "patient"),
        (7, 12, "denies"),
        (14, 23, "chestpain"),
        (29, 30, "mg"),
    ]
    assert [t.result for t in rows[0].clean][:3] == ["pt", "denies", "Chest-pain"]
    light = LightPipeline(model).fullAnnotate(TEXT)[0]["normalized"]
    assert [(t.begin, t.end, t.result) for t in light] == normalized
    assert rows[1].normalized == []


def test_settings_are_checked(tmp_path):
    with pytest.raises(ValueError, match="cleanupPatterns holds"):
        Normalizer().setCleanupPatterns(["("])
    bad = tmp_path / "slang.txt"
    bad.write_text("pt\n")
    with pytest.raises(ValueError, match=r"slang.txt, line 1: expected 'word,replacement'"):
        Normalizer().setSlangDictionary(str(bad))
    assert "the" in StopWordsCleaner().getStopWords()
    assert StopWordsCleaner.loadDefaultStopWords("english") == StopWordsCleaner().getStopWords()
    custom = (
        StopWordsCleaner().setInputCols(["token"]).setStopWords(["Pain"]).setCaseSensitive(True)
    )
    light = LightPipeline([DocumentAssembler(), Tokenizer().setInputCols(["document"]), custom])
    assert light.annotate("pain Pain")["cleanTokens"] == ["pain"]
