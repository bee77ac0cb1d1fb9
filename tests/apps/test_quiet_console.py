"""A run that loads the tagger prints nothing but its own output: no TensorFlow start-up
notices from the driver or any Python worker, no JVM or Spark lines. Each case is a fresh
process (its real stderr), as a user starts it, in a clean working folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from tests_support import sparkner_command

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow


def _run(command: list[str], cwd) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell has it
    return subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=cwd, env=env)


def _script(source: str, cwd) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-c", textwrap.dedent(source)], cwd)


def test_demo_prints_its_table_only(tmp_path):
    out = _run([*sparkner_command(), "demo"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == ""
    assert "chest pain" in out.stdout and "PROBLEM" in out.stdout


def test_pretrained_pipeline_transform_prints_nothing_of_its_own(tmp_path):
    out = _script(
        """
        import sparkner
        from sparkner.pretrained import PretrainedPipeline

        spark = sparkner.start(master="local[2]")
        frame = spark.createDataFrame(
            [("She denies chest pain.",), ("Fever and cough; chest x-ray ordered.",)], ["text"]
        ).repartition(2)
        rows = PretrainedPipeline("ner_clinical_pipeline").transform(frame)
        found = sorted(c for row in rows.select("ner_chunk.result").collect() for c in row[0])
        print("FOUND", found)
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == ""
    assert out.stdout.startswith("FOUND [") and "'chest pain'" in out.stdout


def test_light_pipeline_prints_nothing_of_its_own(tmp_path):
    out = _script(
        """
        from sparkner.annotator import *
        from sparkner.base import *

        pipeline = LightPipeline(
            [
                DocumentAssembler().setInputCol("text").setOutputCol("document"),
                SentenceDetector().setInputCols(["document"]).setOutputCol("sentence"),
                Tokenizer().setInputCols(["sentence"]).setOutputCol("token"),
                WordEmbeddingsModel.pretrained("embeddings_clinical", "en", "clinical/models")
                .setInputCols(["sentence", "token"])
                .setOutputCol("embeddings"),
                NerDLModel.pretrained("ner_clinical", "en", "clinical/models")
                .setInputCols(["sentence", "token", "embeddings"])
                .setOutputCol("ner"),
                NerConverter().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk"),
            ]
        )
        print(pipeline.annotate("She denies chest pain.")["ner_chunk"])
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == ""
    assert out.stdout == "['chest pain']\n"
