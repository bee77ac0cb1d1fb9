"""Every stage and a fitted PipelineModel save and load with plain Spark ML calls."""

from __future__ import annotations

import json
import textwrap

import pytest
from pyspark.ml import Pipeline, PipelineModel
from tests_support import result_of_new_process

from sparkner import DocumentAssembler, SentenceDetector, Tokenizer

NOTES = [
    "HISTORY:,  Chest pain x 2 days.,MEDICATIONS:, 1. Aspirin 81 mg p.o. q.d.",
    None,
    "Dr. Smith saw her; BP 120/80 -- stable.",
]


def customized_stages():
    return [
        DocumentAssembler().setInputCol("note").setOutputCol("doc"),
        SentenceDetector(inputCols=["doc"], outputCol="sent")
        .setCustomBounds([";"])
        .setCustomBoundsStrategy("append")
        .setSplitLength(200),
        Tokenizer(inputCols=["sent"], outputCol="tok")
        .setSplitChars(["-"])
        .setExceptions(["p.o. q.d."])
        .setMinLength(1),
    ]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["assembler", "sentences", "tokenizer"])
def test_each_stage_round_trips_with_its_params(spark, tmp_path, index):
    stage = customized_stages()[index]
    path = str(tmp_path / "stage")
    stage.write().overwrite().save(path)
    loaded = type(stage).load(path)
    assert loaded.uid == stage.uid
    assert {p.name: v for p, v in loaded.extractParamMap().items()} == {
        p.name: v for p, v in stage.extractParamMap().items()
    }


def tokens_as_json(frame) -> str:
    rows = frame.orderBy("id").select("id", "tok").collect()
    return json.dumps([[r.id, [(a.begin, a.end, a.result) for a in r.tok]] for r in rows])


@pytest.mark.slow
def test_pipeline_model_loads_in_a_new_process_with_identical_output(spark, tmp_path):
    frame = spark.createDataFrame(list(enumerate(NOTES)), "id int, note string")
    model = Pipeline(stages=customized_stages()).fit(frame)
    path = str(tmp_path / "model")
    model.write().overwrite().save(path)
    expected = tokens_as_json(model.transform(frame))
    assert '"p.o. q.d."' in expected and '"-"' in expected

    in_process = tokens_as_json(PipelineModel.load(path).transform(frame))
    assert in_process == expected

    script = textwrap.dedent(
        f"""
        import json, sparkner
        from pyspark.ml import PipelineModel
        spark = sparkner.start(master="local[1]")
        frame = spark.createDataFrame(list(enumerate({NOTES!r})), "id int, note string")
        rows = PipelineModel.load({path!r}).transform(frame).orderBy("id").collect()
        print("RESULT=" + json.dumps(
            [[r.id, [(a.begin, a.end, a.result) for a in r.tok]] for r in rows]))
        """
    )
    assert result_of_new_process(script) == expected
