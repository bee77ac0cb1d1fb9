"""Params are checked wherever they are set, have one default each and a getter each."""

from __future__ import annotations

import glob
import inspect
import json
import os

import pytest
from pyspark.ml import Estimator, PipelineModel

import sparkner
from sparkner import NerDLApproach, SentenceDetector, Tokenizer, WordEmbeddings
from sparkner.apps.pretrained import stage_classes
from sparkner.core.params import SparknerParams

ALL_STAGES = [*stage_classes().values(), NerDLApproach, WordEmbeddings]


def test_every_stage_is_listed():
    names = set(stage_classes())
    assert {
        "DocumentAssembler",
        "SentenceDetector",
        "Tokenizer",
        "WordEmbeddingsModel",
        "NerDLModel",
        "NerConverter",
    } <= names
    assert {n for n in sparkner.__all__ if n.endswith(("Model", "Converter"))} <= names


@pytest.mark.parametrize("cls", ALL_STAGES, ids=lambda c: c.__name__)
def test_every_param_has_a_getter_a_setter_and_a_checked_default(cls):
    stage = cls()
    assert isinstance(stage, SparknerParams)
    for param in stage.params:
        suffix = param.name[0].upper() + param.name[1:]
        assert callable(getattr(stage, f"set{suffix}")), param.name
        getter = getattr(stage, f"get{suffix}")
        if stage.hasDefault(param):
            assert getter() == stage.getOrDefault(param), param.name


@pytest.mark.parametrize(
    ("make", "param", "bad", "message"),
    [
        (Tokenizer, "minLength", -5, "minLength must be at least 0"),
        (Tokenizer, "exceptions", ["ok", ""], "exceptions cannot hold an empty string"),
        (SentenceDetector, "customBoundsStrategy", "sideways", "customBoundsStrategy must be one"),
        (SentenceDetector, "customBounds", ["("], "not a valid regular expression"),
        (SentenceDetector, "splitLength", -1, "splitLength must be at least 0"),
        (NerDLApproach, "dropout", 1.5, r"dropout must be in \[0, 1\)"),
        (NerDLApproach, "lr", 0.0, "lr must be positive"),
        (NerDLApproach, "maxEpochs", 0, "maxEpochs must be at least 1"),
        (WordEmbeddings, "storageDtype", "float64", "storageDtype must be one of"),
    ],
)
def test_bad_values_are_refused_however_they_are_set(make, param, bad, message):
    stage = make()
    p = stage.getParam(param)
    setter = getattr(stage, f"set{param[0].upper()}{param[1:]}")
    with pytest.raises(ValueError, match=message):
        setter(bad)
    if _takes_keyword(make, param):
        with pytest.raises(ValueError, match=message):
            make(**{param: bad})
    with pytest.raises(ValueError, match=message):
        stage.set(p, bad)
    with pytest.raises(ValueError, match=message):
        stage.copy({p: bad})
    assert stage.getOrDefault(p) != bad  # nothing was set on the way


def _takes_keyword(cls, name: str) -> bool:
    parameters = inspect.signature(cls.__init__).parameters
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def test_fit_with_extra_params_is_checked(spark):
    approach = NerDLApproach()
    assert isinstance(approach, Estimator)
    frame = spark.createDataFrame([("a",)], "text string")
    with pytest.raises(ValueError, match="batchSize must be at least 1"):
        approach.fit(frame, {approach.batchSize: 0})


def test_a_loaded_stage_is_checked(spark, tmp_path):
    pipeline = PipelineModel(stages=[Tokenizer().setMinLength(2)])
    pipeline.write().save(str(tmp_path / "p"))
    (part,) = glob.glob(str(tmp_path / "p" / "stages" / "*" / "metadata" / "part-*"))
    with open(part) as handle:
        metadata = json.loads(handle.readline())
    metadata["paramMap"]["minLength"] = -3
    with open(part, "w") as handle:
        handle.write(json.dumps(metadata) + "\n")
    for checksum in glob.glob(str(tmp_path / "p" / "stages" / "*" / "metadata" / ".*.crc")):
        os.remove(checksum)  # Spark would refuse the edited file for its checksum
    with pytest.raises(ValueError, match="minLength must be at least 0"):
        PipelineModel.load(str(tmp_path / "p"))


def test_setters_normalize_as_the_converters_do():
    tokenizer = Tokenizer(abbreviations=["Dr.", "approx"])
    assert tokenizer.getAbbreviations() == ["Dr", "approx"]
    detector = SentenceDetector()
    assert detector.copy({detector.abbreviations: ["Dr."]}).getAbbreviations() == ["dr"]
    embeddings = WordEmbeddings().setStorageFormat("binary")
    assert embeddings.getStorageFormat() == "BINARY"
