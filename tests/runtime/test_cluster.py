"""local-cluster mode: separate executor JVMs and Python workers find everything via Spark."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import sparkner
    from pyspark.ml import Pipeline
    from sparkner import (
        DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer, WordEmbeddings)

    notes = json.loads(sys.stdin.read())
    spark = sparkner.start(master="local-cluster[2,1,1024]")
    executors = spark.sparkContext.parallelize(range(8), 8).map(
        lambda _: (os.getpid(), os.getppid())).distinct().collect()
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string").repartition(4)
    vectors = os.path.join(tempfile.mkdtemp(), "cluster_vectors.vec")
    with open(vectors, "w") as handle:
        handle.write("3 2\\nthe 1 2\\npatient 3 4\\npain 5 6\\n")
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer(),
              WordEmbeddings().setStoragePath(vectors)]
    model = Pipeline(stages=stages).fit(frame)
    rows = model.transform(frame).orderBy("id").collect()
    light = LightPipeline(model, parse_embeddings=True).fullAnnotate(notes)
    def spans(annotations):
        return [(a.begin, a.end, a.result, list(a.embeddings)) for a in annotations]
    same_tokens = [spans(r.token) for r in rows] == [spans(r["token"]) for r in light]
    same_vectors = [spans(r.embeddings) for r in rows] == [spans(r["embeddings"]) for r in light]
    known = sum(a.metadata["isOOV"] == "false" for r in rows for a in r.embeddings)
    # Where the executors find the vectors: Spark's copy, not the driver's folder.
    store = model.stages[-1]
    location = store.spark_batch_function(spark).keywords["store"].location
    seen = spark.sparkContext.parallelize(range(4), 4).map(
        lambda _: (location.resolve(), os.path.isfile(
            os.path.join(location.resolve(), "vectors.npy")))).distinct().collect()
    print("DRIVER_PID=%d" % os.getpid())
    print("WORKERS=" + json.dumps(executors))
    print("ROWS=%d" % len(rows))
    print("SAME=%s" % (same_tokens and same_vectors))
    print("KNOWN=%d" % known)
    print("DRIVER_STORE=" + store.files_folder())
    print("EXECUTOR_STORES=" + json.dumps(seen))
    spark.stop()
    """
)


@pytest.mark.slow
def test_pipeline_in_local_cluster_mode(mtsamples_notes):
    notes = [*mtsamples_notes[:200], None, "", "Chest pain. 😀"]
    import json

    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(notes),
        capture_output=True,
        text=True,
        timeout=420,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert out.returncode == 0, out.stderr[-4000:]
    values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    workers = json.loads(values["WORKERS"])
    # Python workers forked by executor JVMs, none of them the driver process.
    assert workers and all(pid != int(values["DRIVER_PID"]) for pid, _ in workers)
    assert len({parent for _, parent in workers}) >= 2, "expected two executor processes"
    assert values["ROWS"] == str(len(notes))
    assert values["SAME"] == "True"
    assert int(values["KNOWN"]) > 100
    stores = json.loads(values["EXECUTOR_STORES"])
    assert stores and all(found for _, found in stores)
    assert all(path != values["DRIVER_STORE"] for path, _ in stores)
