"""Tokenizer as Spark NLP's estimator (``fit`` -> TokenizerModel) and its exceptions file."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline, PipelineModel

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer, TokenizerModel
from sparkner.common import ReadAs
from sparkner.stages.stage import AnnotatorInputError


@pytest.fixture(scope="module")
def sentences(spark):
    frame = spark.createDataFrame([("Seen at St. Jude. BP 120/80.",)], "text string")
    return PipelineModel([DocumentAssembler(), SentenceDetector()]).transform(frame)


def test_fit_returns_a_model_with_the_same_params(sentences):
    tokenizer = Tokenizer().setMinLength(2).setExceptions(["St. Jude"]).setOutputCol("tok")
    model = tokenizer.fit(sentences)
    assert isinstance(model, TokenizerModel) and isinstance(model, Tokenizer)
    assert model.uid != tokenizer.uid
    assert model.rules() == tokenizer.rules()
    assert model.getOutputCol() == "tok"
    tokens = model.transform(sentences).selectExpr("tok.result").first()[0]
    assert tokens == ["Seen", "at", "St. Jude", "BP", "120/80"]


def test_fit_with_a_param_map_and_a_list_of_them(sentences):
    tokenizer = Tokenizer()
    model = tokenizer.fit(sentences, {tokenizer.minLength: 3})
    assert model.getMinLength() == 3 and tokenizer.getMinLength() == 0
    models = tokenizer.fit(sentences, [{tokenizer.minLength: 1}, {tokenizer.minLength: 2}])
    assert [m.getMinLength() for m in models] == [1, 2]


def test_fit_checks_the_input_column(sentences):
    with pytest.raises(AnnotatorInputError, match="'sentences' does not exist"):
        Tokenizer().setInputCols(["sentences"]).fit(sentences)


def test_still_a_transformer_in_a_pipeline(spark):
    frame = spark.createDataFrame([("Chest pain.",)], "text string")
    model = Pipeline(stages=[DocumentAssembler(), SentenceDetector(), Tokenizer()]).fit(frame)
    assert type(model.stages[-1]) is Tokenizer
    assert LightPipeline(model).annotate("Chest pain.")["token"] == ["Chest", "pain", "."]


def test_exceptions_path_is_read_when_set(tmp_path):
    path = tmp_path / "exceptions.txt"
    path.write_text("St. Jude\n\n  COVID-19 PCR \r\n")
    tokenizer = Tokenizer().setExceptions(["b.i.d"]).setExceptionsPath(str(path), ReadAs.TEXT)
    assert tokenizer.getExceptions() == ["b.i.d", "St. Jude", "COVID-19 PCR"]
    assert tokenizer.getExceptionsPath() == str(path)
    light = LightPipeline([DocumentAssembler(), SentenceDetector(), tokenizer])
    assert "COVID-19 PCR" in light.annotate("Negative COVID-19 PCR today.")["token"]


def test_bad_exceptions_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.txt"):
        Tokenizer().setExceptionsPath(str(tmp_path / "absent.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"bad\.txt, line 2: not UTF-8"):
        Tokenizer().setExceptionsPath(str(bad))
    control = tmp_path / "control.txt"
    control.write_text("St.\x00Jude\n")
    with pytest.raises(ValueError, match=r"control\.txt, line 1: holds the control character"):
        Tokenizer().setExceptionsPath(str(control))
    with pytest.raises(ValueError, match=r"read_as must be ReadAs\.TEXT"):
        Tokenizer().setExceptionsPath(str(bad), ReadAs.BINARY)
