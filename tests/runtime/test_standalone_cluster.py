"""``sparkner annotate`` on a real Spark standalone cluster: a master and two workers on loopback.

The job runs as its own process (the driver) with ``--master spark://...``; its executors are
JVMs started by the workers, in their own working folders. The cluster run reads a saved copy
of the pretrained pipeline, whose models the executors get only as Spark ships them (archive
artifacts, see ``sparkner/shipping.py``); the local run reads the bundled pipeline, whose
models every worker finds in its installed sparkner. The table must be the same, row for row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
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

from sparkner.apps.annotate import TEMP_MARKER
from sparkner.apps.pretrained import PretrainedPipeline

SPARK_HOME = Path(pyspark.__file__).resolve().parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
START_TIMEOUT_S = 60


def _tail(path: Path, chars: int = 3000) -> str:
    text = path.read_text(errors="replace")[-chars:] if path.exists() else "(none)"
    return f"--- {path.name} ---\n{text}"


@dataclass
class Cluster:
    url: str
    webui: str
    work_dir: Path
    logs: list[Path]
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.webui}/json/", timeout=2) as answer:
            return json.load(answer)

    def logs_tail(self) -> str:
        return "\n".join(_tail(log) for log in self.logs)


def _env(tmp_path: Path) -> dict[str, str]:
    """Everything on loopback, the executors' Python this interpreter, Spark's files in tmp."""
    # Spark's settings folder for the cluster and the driver: no spark-env.sh, and defaults
    # that make the driver wait for both executors before it schedules a task (so that both
    # run tasks; at most spark.scheduler.maxRegisteredResourcesWaitingTime, 30 s).
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "conf" / "spark-defaults.conf").write_text(
        "spark.scheduler.minRegisteredResourcesRatio 1.0\n"
    )
    (tmp_path / "local").mkdir(exist_ok=True)
    env = {**os.environ}
    env.pop("SPARKNER_TEST_KILL_WORKER", None)
    env.update(
        SPARK_HOME=str(SPARK_HOME),
        SPARK_CONF_DIR=str(tmp_path / "conf"),
        SPARK_LOCAL_IP=LOOPBACK,
        SPARK_LOCAL_HOSTNAME=LOOPBACK,
        SPARK_LOCAL_DIRS=str(tmp_path / "local"),
        PYSPARK_PYTHON=sys.executable,
    )
    return env


@pytest.fixture
def standalone_cluster(tmp_path):
    """A standalone master and two workers (1 core, 1 GB each); always torn down."""
    env = _env(tmp_path)
    work_dir, log_dir = tmp_path / "work", tmp_path / "logs"
    work_dir.mkdir()
    log_dir.mkdir()
    env.update(SPARK_WORKER_DIR=str(work_dir), SPARK_LOG_DIR=str(log_dir))
    port, webui = free_port(), free_port()
    cluster = Cluster(
        url=f"spark://{LOOPBACK}:{port}",
        webui=f"http://{LOOPBACK}:{webui}",
        work_dir=work_dir,
        logs=[log_dir / "master.log", log_dir / "worker-1.log", log_dir / "worker-2.log"],
        env=env,
    )
    commands = [
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--webui-port",
            str(webui),
        ],
        *[
            [
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                LOOPBACK,
                "--port",
                str(free_port()),
                "--webui-port",
                str(free_port()),
                "--cores",
                "1",
                "--memory",
                "1g",
                "--work-dir",
                str(work_dir),
                cluster.url,
            ]
            for _ in range(2)
        ],
    ]
    try:
        for command, log in zip(commands, cluster.logs, strict=True):
            with open(log, "w") as stream:
                process = subprocess.Popen(
                    [str(SPARK_CLASS), *command],
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            cluster.processes.append(process)
        deadline, state = time.monotonic() + START_TIMEOUT_S, {}
        while True:
            with contextlib.suppress(OSError, ValueError):  # not listening yet
                state = cluster.state()
            alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
            if state.get("status") == "ALIVE" and len(alive) == 2:
                break
            exited = [p.args[1] for p in cluster.processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                pytest.fail(
                    f"standalone cluster not up after {START_TIMEOUT_S} s (exited: {exited}; "
                    f"master says {state})\n{cluster.logs_tail()}"
                )
            time.sleep(0.5)
        yield cluster
    finally:
        pids = kill_sessions([p.pid for p in cluster.processes])
        for process in cluster.processes:
            process.wait(timeout=30)
        # No JVM (master, workers, executors) or Python worker of the cluster outlives the test.
        assert not [pid for pid in pids if process_alive(pid)], pids


def _annotate(
    notes: Path, output: Path, master: str, env: dict[str, str], log: Path, model: str
) -> dict:
    """``sparkner annotate`` as its own process (the driver); returns its JSON summary."""
    command = [
        *sparkner_command(),
        "annotate",
        str(notes),
        str(output),
        "--id-col",
        "id",
        "--master",
        master,
        "--model",
        model,
        "--json",
        "--quiet",
    ]
    with open(log, "w") as stream:
        run = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stream,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            stdout, _ = run.communicate(timeout=300)
        finally:
            kill_sessions([run.pid], grace_s=30)  # a finished driver's JVM ends by itself
            run.wait(timeout=30)
    assert run.returncode == 0, f"{command}\n{_tail(log, 5000)}"
    return json.loads(stdout.strip().splitlines()[-1])


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.mark.slow
def test_annotate_on_a_standalone_cluster_matches_a_local_run(standalone_cluster, spark, tmp_path):
    notes = tmp_path / "notes.parquet"
    ids = [f"note-{i:03d}" for i in range(len(SHORT_NOTES))]
    pd.DataFrame({"id": ids, "text": SHORT_NOTES}).to_parquet(notes)
    env = standalone_cluster.env
    saved = tmp_path / "saved_pipeline"
    PretrainedPipeline("ner_clinical_pipeline").model.write().save(str(saved))

    on_cluster = _annotate(
        notes,
        tmp_path / "cluster",
        standalone_cluster.url,
        env,
        tmp_path / "logs" / "driver-cluster.log",
        str(saved),
    )
    local = _annotate(
        notes,
        tmp_path / "local-run",
        "local[2]",
        env,
        tmp_path / "logs" / "driver-local.log",
        "ner_clinical",
    )

    # The same table, row for row, and the same counts.
    expected, got = entity_table(tmp_path / "local-run"), entity_table(tmp_path / "cluster")
    assert len(expected) == local["entities"] > len(SHORT_NOTES)
    pd.testing.assert_frame_equal(got, expected)
    for key in ("rows_read", "notes_with_entities", "entities", "entities_by_type", "tokens"):
        assert on_cluster[key] == local[key], key
    assert on_cluster["rows_read"] == len(SHORT_NOTES)
    assert not [n for n in os.listdir(tmp_path) if TEMP_MARKER in n]

    # The job ran as one application on both workers' executors ...
    state = standalone_cluster.state()
    assert [app["name"] for app in state["completedapps"]] == ["sparkner"], state
    apps = sorted(standalone_cluster.work_dir.glob("app-*"))
    assert len(apps) == 1, apps
    # Spark fetches an application's archives into an executor's working folder
    # (SPARK_WORKER_DIR/app-*/<executor id>/) when it gets its first task.
    executors = [p for p in sorted(apps[0].iterdir()) if any(p.glob("sparkner-*.tar"))]
    assert len(executors) >= 2, sorted(os.listdir(apps[0]))
    # ... and each executor got the saved pipeline's models from Spark: one archive per model
    # folder, unpacked in the executor's own working folder, with the saved files.
    saved_folders = sorted(saved.glob("stages/*/files"))
    assert len(saved_folders) >= 3, saved_folders  # vectors, tagger, assertion rules, ...
    expected = sorted(json.dumps(_digests(folder)) for folder in saved_folders)
    for executor in executors:
        shipped = sorted(executor.glob("sparkner-*.tar"))
        assert all(p.is_dir() for p in shipped), (executor, os.listdir(executor))
        assert sorted(json.dumps(_digests(p)) for p in shipped) == expected, executor
