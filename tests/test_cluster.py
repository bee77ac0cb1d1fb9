"""The text stages in local-cluster mode: separate executor JVMs and Python workers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import sparkner
    from pyspark.ml import Pipeline
    from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer

    notes = json.loads(sys.stdin.read())
    spark = sparkner.start(master="local-cluster[2,1,1024]")
    executors = spark.sparkContext.parallelize(range(8), 8).map(
        lambda _: (os.getpid(), os.getppid())).distinct().collect()
    frame = spark.createDataFrame(list(enumerate(notes)), "id int, text string").repartition(4)
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    model = Pipeline(stages=stages).fit(frame)
    rows = model.transform(frame).orderBy("id").collect()
    spark_tokens = [[(a.begin, a.end, a.result) for a in r.token] for r in rows]
    light = LightPipeline(model).fullAnnotate(notes)
    light_tokens = [[(a.begin, a.end, a.result) for a in r["token"]] for r in light]
    print("DRIVER_PID=%d" % os.getpid())
    print("WORKERS=" + json.dumps(executors))
    print("ROWS=%d" % len(rows))
    print("SAME=%s" % (spark_tokens == light_tokens))
    spark.stop()
    """
)


@pytest.mark.slow
def test_text_stages_in_local_cluster_mode(mtsamples_notes):
    notes = [*mtsamples_notes[:200], None, "", "Chest pain. 😀"]
    import json

    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], input=json.dumps(notes), capture_output=True,
        text=True, timeout=420, env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    workers = json.loads(values["WORKERS"])
    # Python workers forked by executor JVMs, none of them the driver process.
    assert workers and all(pid != int(values["DRIVER_PID"]) for pid, _ in workers)
    assert len({parent for _, parent in workers}) >= 2, "expected two executor processes"
    assert values["ROWS"] == str(len(notes))
    assert values["SAME"] == "True"
