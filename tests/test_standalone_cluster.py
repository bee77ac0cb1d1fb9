"""``sparkner annotate`` on a real Spark standalone cluster: a master and two workers on loopback.

The job runs as its own process (the driver) with ``--master spark://...``; its executors are
JVMs started by the workers, in their own working folders, and they get the models only as
Spark ships them (``SparkContext.addArchive``, see ``sparkner/shipping.py``). The table must be
the one a local run writes, row for row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyspark
import pytest

from sparkner.annotate_job import TEMP_MARKER
from sparkner.resources import bundled_folder

SPARK_HOME = Path(pyspark.__file__).resolve().parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
START_TIMEOUT_S = 60
LOOPBACK = "127.0.0.1"

# Short fictional notes, with a null and an empty one (kept as rows, with no entities).
NOTES = [
    "Fever and cough for two days. Chest CT showed pneumonia; started ceftriaxone.",
    "Known diabetes mellitus on metformin 500 mg b.i.d. HbA1c was 8.1%.",
    "She denies chest pain. EKG showed sinus rhythm. Continue aspirin 81 mg daily.",
    "MRI of the brain was normal. Headache improved with ibuprofen.",
    None,
    "History of hypertension, treated with lisinopril. BP 150/90 today.",
    "Shortness of breath and orthopnea. Echocardiogram showed reduced ejection fraction.",
    "",
    "Urinalysis positive for nitrites; urinary tract infection treated with nitrofurantoin.",
    "Right knee pain after a fall. X-ray showed no fracture. Ice and acetaminophen.",
    "Anemia on CBC, hemoglobin 9.2. Started ferrous sulfate.",
    "Asthma exacerbation; albuterol nebulizer given and prednisone 40 mg started.",
    "Abdominal pain and nausea. CT abdomen showed appendicitis; taken for appendectomy.",
    "Blood cultures grew Staphylococcus aureus. Vancomycin was started for bacteremia.",
    "Atrial fibrillation with rapid ventricular response; diltiazem drip, then warfarin.",
    "Chronic kidney disease stage 3. Creatinine 1.9. Avoid NSAIDs.",
    "Low back pain without radiculopathy. Physical therapy and naproxen as needed.",
    "Hypothyroidism on levothyroxine. TSH within normal limits.",
    "Seizure last night. EEG pending. Levetiracetam loading dose given.",
    "Cellulitis of the left leg; cephalexin for 7 days. Wound culture sent.",
    "Sore throat; rapid strep test positive. Amoxicillin for 10 days.",
    "Colonoscopy showed a polyp, removed by polypectomy. Biopsy pending.",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _session_pids(session: int) -> list[int]:
    """Live processes of a session: one started with start_new_session and all it started
    (executor JVMs, Python daemons and workers, which at most change process group)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[3]) == session and fields[0] != "Z":  # fields: state ppid pgrp session
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_sessions(sessions: list[int], grace_s: float = 0, deadline_s: float = 60) -> list[int]:
    """SIGKILL every process of the sessions, by id, until none is left; return their ids.
    With ``grace_s``, first give them that long to end by themselves."""
    seen: set[int] = set()
    grace, deadline = time.monotonic() + grace_s, time.monotonic() + grace_s + deadline_s
    while pids := [pid for session in sessions for pid in _session_pids(session)]:
        seen.update(pids)
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {pids} outlived SIGKILL")
        if time.monotonic() > grace:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):  # gone meanwhile
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    return sorted(seen)


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
        SPARK_HOME=str(SPARK_HOME), SPARK_CONF_DIR=str(tmp_path / "conf"),
        SPARK_LOCAL_IP=LOOPBACK, SPARK_LOCAL_HOSTNAME=LOOPBACK,
        SPARK_LOCAL_DIRS=str(tmp_path / "local"), PYSPARK_PYTHON=sys.executable,
    )  # fmt: skip
    return env


@pytest.fixture
def standalone_cluster(tmp_path):
    """A standalone master and two workers (1 core, 1 GB each); always torn down."""
    env = _env(tmp_path)
    work_dir, log_dir = tmp_path / "work", tmp_path / "logs"
    work_dir.mkdir()
    log_dir.mkdir()
    env.update(SPARK_WORKER_DIR=str(work_dir), SPARK_LOG_DIR=str(log_dir))
    port, webui = _free_port(), _free_port()
    cluster = Cluster(
        url=f"spark://{LOOPBACK}:{port}", webui=f"http://{LOOPBACK}:{webui}", work_dir=work_dir,
        logs=[log_dir / "master.log", log_dir / "worker-1.log", log_dir / "worker-2.log"],
        env=env,
    )  # fmt: skip
    commands = [
        ["org.apache.spark.deploy.master.Master", "--host", LOOPBACK, "--port", str(port),
         "--webui-port", str(webui)],
        *[["org.apache.spark.deploy.worker.Worker", "--host", LOOPBACK,
           "--port", str(_free_port()), "--webui-port", str(_free_port()), "--cores", "1",
           "--memory", "1g", "--work-dir", str(work_dir), cluster.url] for _ in range(2)],
    ]  # fmt: skip
    try:
        for command, log in zip(commands, cluster.logs, strict=True):
            with open(log, "w") as stream:
                process = subprocess.Popen(
                    [str(SPARK_CLASS), *command], stdout=stream, stderr=subprocess.STDOUT,
                    env=env, start_new_session=True,
                )  # fmt: skip
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
        pids = _kill_sessions([p.pid for p in cluster.processes])
        for process in cluster.processes:
            process.wait(timeout=30)
        # No JVM (master, workers, executors) or Python worker of the cluster outlives the test.
        assert not [pid for pid in pids if _alive(pid)], pids


def _annotate(notes: Path, output: Path, master: str, env: dict[str, str], log: Path) -> dict:
    """``sparkner annotate`` as its own process (the driver); returns its JSON summary."""
    script = Path(sys.executable).with_name("sparkner")  # the console script of this install
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sparkner.cli"]
    command += ["annotate", str(notes), str(output), "--id-col", "id", "--master", master,
                "--json", "--quiet"]  # fmt: skip
    with open(log, "w") as stream:
        run = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stream, text=True, env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            stdout, _ = run.communicate(timeout=300)
        finally:
            _kill_sessions([run.pid], grace_s=30)  # a finished driver's JVM ends by itself
            run.wait(timeout=30)
    assert run.returncode == 0, f"{command}\n{_tail(log, 5000)}"
    return json.loads(stdout.strip().splitlines()[-1])


def _entities(folder: Path) -> pd.DataFrame:
    table = pd.read_parquet(folder)
    return table.sort_values(["id", "begin"], kind="stable").reset_index(drop=True)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.mark.slow
def test_annotate_on_a_standalone_cluster_matches_a_local_run(standalone_cluster, tmp_path):
    notes = tmp_path / "notes.parquet"
    ids = [f"note-{i:03d}" for i in range(len(NOTES))]
    pd.DataFrame({"id": ids, "text": NOTES}).to_parquet(notes)
    env = standalone_cluster.env

    on_cluster = _annotate(notes, tmp_path / "cluster", standalone_cluster.url, env,
                           tmp_path / "logs" / "driver-cluster.log")  # fmt: skip
    local = _annotate(notes, tmp_path / "local-run", "local[2]", env,
                      tmp_path / "logs" / "driver-local.log")  # fmt: skip

    # The same table, row for row, and the same counts.
    expected, got = _entities(tmp_path / "local-run"), _entities(tmp_path / "cluster")
    assert len(expected) == local["entities"] > len(NOTES)
    pd.testing.assert_frame_equal(got, expected)
    for key in ("rows_read", "notes_with_entities", "entities", "entities_by_type", "tokens"):
        assert on_cluster[key] == local[key], key
    assert on_cluster["rows_read"] == len(NOTES)
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
    # ... and each executor got the models from Spark: the archives that sparkner ships with
    # addArchive, unpacked in the executor's own working folder, with the bundled files.
    for model, marker in (("ner_clinical", "tagger.json"), ("embeddings_clinical", "store.json")):
        bundled = _digests(bundled_folder(model, marker, "model"))
        for executor in executors:
            shipped = list(executor.glob(f"sparkner-{model}-*.tar"))
            assert len(shipped) == 1 and shipped[0].is_dir(), (executor, os.listdir(executor))
            assert _digests(shipped[0]) == bundled, (executor, model)
