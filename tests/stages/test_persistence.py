"""Every stage and a fitted PipelineModel save and load with plain Spark ML calls."""

from __future__ import annotations

import json
import textwrap

import pytest
from pyspark.ml import Pipeline, PipelineModel
from tests_support import result_of_new_process

from sparkner import DocumentAssembler, SentenceDetector, Tokenizer
from sparkner.stages.persistence import local_path

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


def _saved_pipeline(spark, tmp_path):
    from sparkner.apps.pretrained import PretrainedPipeline

    folder = tmp_path / "pipeline"
    PretrainedPipeline().model.write().save(str(folder))
    return folder


def _rewrite_metadata(folder, change) -> None:
    import json

    (part,) = [p for p in (folder / "metadata").glob("part-*") if not p.name.endswith(".crc")]
    data = json.loads(part.read_text())
    change(data)
    part.write_text(json.dumps(data) + "\n")
    for crc in (folder / "metadata").glob(".*.crc"):
        crc.unlink()


@pytest.mark.slow
def test_loading_never_unpickles_and_checks_the_pipeline(spark, tmp_path):
    import pickle

    from sparkner.apps.pretrained import PretrainedPipeline

    folder = _saved_pipeline(spark, tmp_path)
    marker = tmp_path / "pickle-ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    # A pickle dropped beside the model files, under every name a loader might try.
    for stage in (folder / "stages").iterdir():
        if (stage / "files").is_dir():
            for name in ("model.pkl", "weights.pkl", "tagger.pickle"):
                (stage / "files" / name).write_bytes(pickle.dumps(Evil()))
    loaded = PretrainedPipeline.from_disk(folder)
    assert loaded.annotate("Fever.")["ner_chunk"] == ["Fever"]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["paramMap"]["stageUids"].__setitem__(0, "../../outside"), "not a plain name"),
        (lambda d: d.__setitem__("class", "os.system"), "not a saved PipelineModel"),
    ],
)
@pytest.mark.slow
def test_tampered_pipeline_metadata_is_refused(spark, tmp_path, change, message):
    from sparkner.apps.pretrained import PretrainedPipeline

    folder = _saved_pipeline(spark, tmp_path)
    _rewrite_metadata(folder, change)
    with pytest.raises(ValueError, match=message):
        PretrainedPipeline.from_disk(folder)


@pytest.mark.slow
def test_foreign_stage_class_is_refused(spark, tmp_path):
    from sparkner.apps.pretrained import PretrainedPipeline

    folder = _saved_pipeline(spark, tmp_path)
    stage = sorted((folder / "stages").iterdir())[2]
    _rewrite_metadata(stage, lambda d: d.__setitem__("class", "subprocess.Popen"))
    with pytest.raises(ValueError, match=r"'subprocess\.Popen'; only sparkner stages are loaded"):
        PretrainedPipeline.from_disk(folder)


@pytest.mark.parametrize(
    ("path", "local"),
    [
        ("/models/ner", "/models/ner"),
        ("relative/ner", "relative/ner"),
        ("file:/models/ner", "/models/ner"),
        ("file:///models/ner", "/models/ner"),
        ("file://localhost/models/ner", "/models/ner"),
        ("FILE:///models/ner", "/models/ner"),
    ],
)
def test_local_paths_for_saving_and_loading(path, local):
    assert local_path(path) == local


@pytest.mark.parametrize("path", ["dbfs:/models/ner", "hdfs://nn/models/ner", "s3a://b/ner"])
def test_other_schemes_are_refused_with_what_to_do(path):
    with pytest.raises(ValueError, match=r"local or mounted paths only; copy the model"):
        local_path(path)
