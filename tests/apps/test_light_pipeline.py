"""LightPipeline: the driver-side path gives exactly what the Spark path gives."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import SQLTransformer
from pyspark.sql import functions as F

from sparkner import Annotation, DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer
from sparkner.core.annotation import as_array

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow

OUTPUTS = ("document", "sentence", "token")
ODD_TEXTS = [
    None,
    "",
    "   \n\t ",
    "Pt 😀 has 胸痛 and ألم. Next\u2028line\r\nhere\x00 and e\u0301 combined.",
    "HISTORY:,  Chest pain.,MEDICATIONS:, 1. Aspirin 81 mg p.o. q.d.  2. Lisinopril.",
]


def flat_fields(column: pa.Array | pa.ChunkedArray) -> dict[str, list]:
    """Everything an annotation column holds, flattened for an exact comparison."""
    column = as_array(column)
    flat = column.flatten()
    # Copy the maps so their offsets start at 0 whatever slice they came from.
    metadata = pa.concat_arrays([flat.field("metadata")]) if len(flat) else flat.field("metadata")
    return {
        "lengths": pc.fill_null(pc.list_value_length(column), 0).to_pylist(),
        "annotatorType": flat.field("annotatorType").to_pylist(),
        "begin": flat.field("begin").to_pylist(),
        "end": flat.field("end").to_pylist(),
        "result": flat.field("result").to_pylist(),
        "metadata_offsets": metadata.offsets.to_pylist(),
        "metadata_keys": metadata.keys.to_pylist(),
        "metadata_items": metadata.items.to_pylist(),
        "embeddings": pc.list_value_length(flat.field("embeddings")).to_pylist(),
    }


def spark_columns(model: PipelineModel, frame, lo: int, hi: int) -> dict[str, pa.ChunkedArray]:
    rows = frame.where((F.col("id") >= lo) & (F.col("id") < hi))
    table = model.transform(rows).orderBy("id").toArrow()
    return {name: table.column(name) for name in table.column_names}


@pytest.fixture(scope="module")
def text_model(spark) -> PipelineModel:
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    return Pipeline(stages=stages).fit(spark.createDataFrame([("x",)], "text string"))


def test_annotate_one_text_and_a_list(text_model):
    light = LightPipeline(text_model)
    one = light.annotate("Dr. Smith saw her. BP 120/80.")
    assert one["sentence"] == ["Dr. Smith saw her.", "BP 120/80."]
    assert one["token"] == ["Dr.", "Smith", "saw", "her", ".", "BP", "120/80", "."]
    many = light.annotate(["Chest pain.", None, ""])
    assert [m["token"] for m in many] == [["Chest", "pain", "."], [], []]


def test_full_annotate_gives_annotations_with_metadata(text_model):
    (result,) = LightPipeline(text_model).fullAnnotate("Chest pain. No fever.")
    tokens = result["token"]
    assert all(isinstance(t, Annotation) for t in tokens)
    assert tokens[3] == Annotation("token", 12, 13, "No", {"sentence": "1"}, [])
    assert [s.metadata["sentence"] for s in result["sentence"]] == ["0", "1"]


def test_full_annotate_returns_a_list_for_one_text_too(text_model):
    light = LightPipeline(text_model)
    one = light.fullAnnotate("Chest pain.")
    assert isinstance(one, list) and len(one) == 1
    assert [t.result for t in one[0]["token"]] == ["Chest", "pain", "."]
    assert light.fullAnnotate(None) == [{"document": [], "sentence": [], "token": []}]
    assert len(light.fullAnnotate(["a", "b"])) == 2
    assert isinstance(light.annotate("Chest pain."), dict)  # annotate keeps Spark NLP's dict


@pytest.mark.parametrize("method", ["annotate", "fullAnnotate"])
@pytest.mark.parametrize(
    "target", [{"text": "Chest pain."}, {"Chest pain."}, 42, ["a", 1]], ids=str
)
def test_what_is_not_a_text_or_a_list_of_texts_is_refused(text_model, method, target):
    with pytest.raises(TypeError, match=f"{method} takes"):
        getattr(LightPipeline(text_model), method)(target)


def test_transform_runs_the_pipeline_model(spark, text_model):
    frame = spark.createDataFrame([("Chest pain. Fever.",)], "text string")
    light = LightPipeline(text_model)
    assert light.transform(frame).selectExpr("size(sentence)").first()[0] == 2
    stages = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer()])
    assert stages.transform(frame).columns == ["text", "document", "sentence", "token"]


def test_light_pipeline_accepts_a_plain_list_of_stages():
    light = LightPipeline([DocumentAssembler(inputCol="note"), SentenceDetector(), Tokenizer()])
    assert light.input_col == "note"
    assert light.annotate("a b")["token"] == ["a", "b"]


def test_non_annotator_stage_is_refused(spark):
    df = spark.createDataFrame([("x",)], "text string")
    passthrough = SQLTransformer(statement="SELECT * FROM __THIS__")
    model = Pipeline(stages=[passthrough, DocumentAssembler()])
    with pytest.raises(TypeError, match="SQLTransformer"):
        LightPipeline(model.fit(df))


def test_missing_column_is_explained():
    with pytest.raises(ValueError, match=r"reads column\(s\) \['sentences'\]"):
        LightPipeline([DocumentAssembler(), Tokenizer().setInputCols(["sentences"])]).annotate("x")


def test_same_as_spark_on_odd_texts(spark, text_model):
    frame = spark.createDataFrame(list(enumerate(ODD_TEXTS)), "id int, text string")
    from_spark = spark_columns(text_model, frame, 0, len(ODD_TEXTS))
    from_light = LightPipeline(text_model).annotate_batch(ODD_TEXTS)
    assert [len(r) for r in from_light["token"].to_pylist()][:3] == [0, 0, 0]
    for name in OUTPUTS:
        assert flat_fields(from_spark[name]) == flat_fields(from_light[name]), name


@pytest.mark.slow
def test_same_as_spark_on_every_mtsamples_note(spark, text_model, mtsamples_notes):
    frame = spark.createDataFrame(list(enumerate(mtsamples_notes)), "id int, text string")
    frame = frame.repartition(3).cache()
    light = LightPipeline(text_model)
    step = 1000
    for lo in range(0, len(mtsamples_notes), step):
        from_spark = spark_columns(text_model, frame, lo, lo + step)
        from_light = light.annotate_batch(mtsamples_notes[lo : lo + step])
        for name in OUTPUTS:
            assert flat_fields(from_spark[name]) == flat_fields(from_light[name]), (name, lo)
    frame.unpersist()


def test_results_do_not_depend_on_partitioning(spark, text_model, mtsamples_notes):
    notes = mtsamples_notes[:300]
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string")
    one = spark_columns(text_model, frame.coalesce(1), 0, len(notes))
    many = spark_columns(text_model, frame.repartition(7), 0, len(notes))
    for name in OUTPUTS:
        assert flat_fields(one[name]) == flat_fields(many[name]), name


def test_full_annotate_parses_embeddings_only_when_asked():
    """As Spark NLP's: the 200 floats of each annotation are left empty unless
    ``parse_embeddings=True``; annotate() never returns them."""
    from sparkner import WordEmbeddingsModel

    stages = [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        WordEmbeddingsModel.pretrained(),
    ]
    (plain,) = LightPipeline(stages).fullAnnotate("Chest pain.")
    assert [a.embeddings for a in plain["embeddings"]] == [[], [], []]
    assert [a.result for a in plain["embeddings"]] == ["Chest", "pain", "."]
    (parsed,) = LightPipeline(stages, parse_embeddings=True).fullAnnotate("Chest pain.")
    assert [len(a.embeddings) for a in parsed["embeddings"]] == [200, 200, 200]
    assert [a.metadata for a in parsed["embeddings"]] == [a.metadata for a in plain["embeddings"]]
