"""sparkner over Spark Connect: a local Connect server (the one in the installed pyspark) on
127.0.0.1, and clients in their own processes, as on Databricks shared and serverless
clusters: no JVM and no SparkContext in the client.

Bundled models are read by the server's Python workers from their own installed sparkner;
saved and freshly fitted models travel as archive artifacts (``SparkSession.addArtifacts``).
Every result must equal the local one.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyspark
import pytest
from tests_support import (
    LOOPBACK,
    SHORT_NOTES,
    entity_table,
    free_port,
    kill_sessions,
    process_alive,
    sparkner_command,
)

from sparkner.apps.annotate import AnnotateJob, annotate
from sparkner.runtime.java import ensure_java
from sparkner.runtime.session import conf_dir

pytest.importorskip("grpc", reason="Spark Connect needs pyspark's Connect client (grpcio)")
pytestmark = pytest.mark.slow

SPARK_HOME = Path(pyspark.__file__).resolve().parent
START_TIMEOUT_S = 90
IDS = [f"note-{i:03d}" for i in range(len(SHORT_NOTES))]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((LOOPBACK, port)) == 0


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """``sc://127.0.0.1:PORT``: a Spark Connect server on local[2]; always stopped."""
    folder = tmp_path_factory.mktemp("connect")
    port, log = free_port(), folder / "server.log"
    log4j = (conf_dir() / "log4j2.properties").as_uri()
    env = {
        **os.environ,
        "JAVA_HOME": ensure_java(),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_LOCAL_DIRS": str(folder),
    }
    settings = {
        "spark.connect.grpc.binding.address": LOOPBACK,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j}",
    }
    command = [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--master",
        "local[2]",
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
    ]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    with open(log, "w") as stream:
        server = subprocess.Popen(
            [*command, "spark-internal"],
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"Connect server not up after {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield f"sc://{LOOPBACK}:{port}"
    finally:
        pids = kill_sessions([server.pid])
        server.wait(timeout=30)
        # No JVM or Python worker of the server outlives the tests.
        assert not [pid for pid in pids if process_alive(pid)], pids


def _client(script: str, tmp_path: Path, timeout: int = 400) -> dict:
    """Run ``script`` in a fresh interpreter (a Connect client: no JVM of its own); return
    the JSON it printed on its last line."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_GATEWAY_PORT",)}
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _chunks_of(rows: list[dict]) -> list[list[list]]:
    return [
        [[c["begin"], c["end"], c["result"], c["metadata"]["entity"]] for c in row["ner_chunk"]]
        for row in rows
    ]


PIPELINES_OVER_CONNECT = """
    import json
    import warnings
    from pyspark.ml import PipelineModel
    import sparkner
    from sparkner.apps.pretrained import PretrainedPipeline
    from sparkner.runtime.shipping import is_connect

    spark = sparkner.start(remote={url!r})
    assert is_connect(spark), type(spark)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a setting Connect does not support
        assert sparkner.start() is spark  # a notebook's session is taken as it is
    notes = spark.createDataFrame({notes!r}, "id string, text string")

    def chunks(model):
        rows = model.transform(notes).orderBy("id").select("ner_chunk", "assertion").collect()
        return [[[c.begin, c.end, c.result, c.metadata["entity"]] for c in r.ner_chunk]
                for r in rows], [[a.result for a in r.assertion] for r in rows]

    bundled = chunks(PretrainedPipeline("ner_clinical_pipeline"))
    saved = chunks(PipelineModel.load({saved!r}))
    print(json.dumps({{"bundled": bundled, "saved": saved}}))
"""


def test_pretrained_and_saved_pipelines_over_connect(connect_server, spark, tmp_path):
    from sparkner.apps.pretrained import PretrainedPipeline

    pipeline = PretrainedPipeline("ner_clinical_pipeline")
    saved = tmp_path / "saved_pipeline"
    pipeline.model.write().save(str(saved))  # its models: folders Spark must ship
    expected = pipeline.fullAnnotate([t or "" for t in SHORT_NOTES])
    chunks = [
        [[c.begin, c.end, c.result, c.metadata["entity"]] for c in r["ner_chunk"]] for r in expected
    ]
    assertions = [[a.result for a in r["assertion"]] for r in expected]
    assert sum(map(len, chunks)) > len(SHORT_NOTES)

    script = PIPELINES_OVER_CONNECT.format(
        url=connect_server, notes=list(zip(IDS, SHORT_NOTES, strict=True)), saved=str(saved)
    )
    got = _client(script, tmp_path)
    for name in ("bundled", "saved"):
        assert got[name] == [chunks, assertions], name


TRAINING_OVER_CONNECT = """
    import json
    import sparkner
    from sparkner import (DocumentAssembler, LightPipeline, NerDLApproach, SentenceDetector,
                          Tokenizer, WordEmbeddingsModel)
    from sparkner.training import CoNLL

    spark = sparkner.start(remote={url!r})
    vectors = WordEmbeddingsModel.pretrained()
    frame = vectors.transform(CoNLL().readDataset(spark, {data!r}))
    model = (NerDLApproach().setMaxEpochs(3).setLr(0.01).setBatchSize(8).setRandomSeed(1)
             .fit(frame))
    # The fitted tagger's folder is in this client: it reaches the server as an artifact.
    remote = [r.result for r in model.transform(frame).select("ner.result").collect()]
    light = LightPipeline(
        [DocumentAssembler(), SentenceDetector(), Tokenizer(), vectors, model])
    local = [light.fullAnnotate(" ".join(t.result for t in row.token))[0]["ner"]
             for row in frame.select("token").collect()]
    print(json.dumps({{"remote": remote, "local": [[a.result for a in r] for r in local],
                      "classes": model.getClasses()}}))
"""


def test_training_from_a_connect_dataframe(connect_server, tmp_path):
    from tests_support import write_tiny_conll

    data = write_tiny_conll(tmp_path / "train.tsv", sentences=80)
    got = _client(TRAINING_OVER_CONNECT.format(url=connect_server, data=str(data)), tmp_path)
    assert sorted(got["classes"]) == ["B-Disease", "I-Disease", "O"]
    assert got["remote"] == got["local"]
    assert len(got["remote"]) == 80


def test_annotate_remote_matches_a_local_run(connect_server, spark, tmp_path):
    notes = tmp_path / "notes.parquet"
    pd.DataFrame({"id": IDS, "text": SHORT_NOTES}).to_parquet(notes)
    local = annotate(
        spark, AnnotateJob(str(notes), str(tmp_path / "local"), id_col="id"), progress=None
    )

    command = [
        *sparkner_command(),
        "annotate",
        str(notes),
        str(tmp_path / "remote"),
        "--id-col",
        "id",
        "--remote",
        connect_server,
        "--json",
        "--quiet",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-4000:]
    remote = json.loads(run.stdout.strip().splitlines()[-1])

    pd.testing.assert_frame_equal(
        entity_table(tmp_path / "remote"), entity_table(tmp_path / "local")
    )
    for key in (
        "rows_read",
        "notes_with_entities",
        "entities",
        "entities_by_type",
        "entities_by_assertion",
        "tokens",
    ):
        assert remote[key] == getattr(local, key), key
    assert remote["rows_read"] == len(SHORT_NOTES)

    # An existing output is refused, as locally, before any note is tagged.
    again = subprocess.run(command, capture_output=True, text=True, timeout=400)
    assert again.returncode == 2 and "exists; pass --overwrite" in again.stderr
    with contextlib.suppress(FileNotFoundError):
        assert not [p for p in os.listdir(tmp_path / "remote") if p.startswith("_temporary")]
