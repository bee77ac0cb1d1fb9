"""RegexMatcher: rules from a file or a list, on Spark and in the LightPipeline."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector
from sparkner.annotator import RegexMatcher, RegexMatcherModel

TEXT = "Gave 10 mg of ASA. Then 5mg."


@pytest.mark.slow  # a Spark job
def test_rules_file_on_spark_and_light(spark, tmp_path):
    rules = tmp_path / "rules.txt"
    rules.write_text("\\d+ ?mg~DOSE\n\\b\\p{Lu}{2,}\\b~ACRONYM\n")
    regex = RegexMatcher().setExternalRules(str(rules), "~").setInputCols(["sentence"])
    data = spark.createDataFrame([(TEXT,), (None,)], "text string")
    model = Pipeline(stages=[DocumentAssembler(), SentenceDetector(), regex]).fit(data)
    documents = Pipeline(stages=model.stages[:2]).fit(data).transform(data)
    assert isinstance(regex.fit(documents), RegexMatcherModel)
    rows = model.transform(data).collect()
    found = [(c.result, c.metadata["identifier"], c.metadata["sentence"]) for c in rows[0].regex]
    assert found == [("10 mg", "DOSE", "0"), ("ASA", "ACRONYM", "0"), ("5mg", "DOSE", "1")]
    assert rows[1].regex == []
    light = LightPipeline(model).fullAnnotate(TEXT)[0]["regex"]
    assert [(c.begin, c.end, c.result) for c in light] == [
        (c.begin, c.end, c.result) for c in rows[0].regex
    ]


def test_rules_are_checked_when_set():
    with pytest.raises(ValueError, match="rule 0: expected 'pattern,identifier'"):
        RegexMatcher().setRules(["no identifier"])
    with pytest.raises(ValueError, match="strategy must be one of"):
        RegexMatcher().setStrategy("MATCH_SOME")
    with pytest.raises(ValueError, match="no rules"):
        RegexMatcher().batch_function()
    first = (
        RegexMatcher().setRules(["\\d+,NUM"]).setStrategy("match_first").setInputCols(["document"])
    )
    assert LightPipeline([DocumentAssembler(), first]).annotate("1 2 3")["regex"] == ["1"]
