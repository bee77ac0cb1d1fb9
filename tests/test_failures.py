"""Failures in the middle of ``sparkner annotate``: Spark retries, the table stays all or nothing.

* A Python worker that dies in the middle of a job (the test-only hook in ``sparkner/base.py``,
  switched on by ``SPARKNER_TEST_KILL_WORKER``) is replaced and its task retried: the table and
  the summary's counts are those of an uninterrupted run.
* A ``sparkner annotate`` process killed while it writes leaves no table under the output's
  name, only its temporary folder, and a rerun with ``--overwrite`` writes the complete table
  (the same as a clean run) and removes that folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from tests_support import SHORT_NOTES, entity_table, kill_sessions

from sparkner.annotate_job import TEMP_MARKER, AnnotateJob, annotate


def _write_notes(path: Path, count: int) -> Path:
    """``count`` notes (the ones above, repeated) with a unique string id, as Parquet."""
    ids = [f"n{i:05d}" for i in range(count)]
    texts = [SHORT_NOTES[i % len(SHORT_NOTES)] for i in range(count)]
    pd.DataFrame({"id": ids, "text": texts}).to_parquet(path)
    return path


def _temporaries(output: Path) -> list[str]:
    return sorted(n for n in os.listdir(output.parent) if n.startswith(output.name + TEMP_MARKER))


def _committed_parts(output: Path) -> list[str]:
    """Data files that finished tasks have committed into the output's temporary folders."""
    found = []
    for temporary in _temporaries(output):
        for folder, _, names in os.walk(output.parent / temporary):
            parts = Path(folder).relative_to(output.parent).parts
            if not any(p.startswith("attempt_") for p in parts):  # still a task's own files
                found += [os.path.join(folder, n) for n in names if n.startswith("part-")]
    return found


def _counts(summary: dict) -> dict:
    keys = ("rows_read", "notes_with_entities", "entities", "entities_by_type", "tokens")
    return {k: summary[k] for k in keys}


def _run(command: list[str], timeout: float = 400) -> subprocess.CompletedProcess:
    """Run a command in its own session; whatever it leaves behind is killed afterwards."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        # A finished driver's JVM ends by itself; after a timeout, nothing is waited for.
        kill_sessions([process.pid], grace_s=30 if process.poll() is not None else 0)
        process.wait(timeout=30)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _sparkner() -> list[str]:
    script = Path(sys.executable).with_name("sparkner")  # the console script of this install
    return [str(script)] if script.exists() else [sys.executable, "-m", "sparkner.cli"]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    env.pop("SPARKNER_TEST_KILL_WORKER", None)
    return env


# In a fresh interpreter with its own session: local[2,4] lets a task fail 4 times (local
# mode's default is 1, no retries). spark.executorEnv passes the switch to the Python workers
# only; the marker file decides whether it fires: it exists during the uninterrupted run (the
# hook stays quiet), then is removed, so that the first batch of the second run kills its worker.
RETRY_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import sparkner
    from sparkner.annotate_job import AnnotateJob, annotate

    notes, out_clean, out_killed, marker = sys.argv[1:5]
    spark = sparkner.start(
        master="local[2,4]", config={"spark.executorEnv.SPARKNER_TEST_KILL_WORKER": marker})
    open(marker, "w").close()
    clean = annotate(spark, AnnotateJob(notes, out_clean, id_col="id"), progress=None)
    os.remove(marker)
    killed = annotate(spark, AnnotateJob(notes, out_killed, id_col="id"), progress=None)
    print("RESULT=" + json.dumps({"clean": clean.as_dict(), "killed": killed.as_dict(),
                                  "fired": os.path.exists(marker)}))
    spark.stop()
    """
)


@pytest.mark.slow
def test_a_killed_python_worker_is_retried_with_the_same_result(tmp_path):
    notes = _write_notes(tmp_path / "notes.parquet", 40)
    clean, killed, marker = tmp_path / "clean", tmp_path / "killed", tmp_path / "kill-marker"
    out = _run(
        [sys.executable, "-c", RETRY_SCRIPT, str(notes), str(clean), str(killed), str(marker)]
    )
    assert out.returncode == 0, out.stderr[-4000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT="))
    result = json.loads(line.removeprefix("RESULT="))
    assert result["fired"], "the hook never killed a Python worker"
    # Spark saw the worker die and ran the task again (local[2,4]: up to 4 attempts).
    lost = [x for x in out.stderr.splitlines() if "Lost task" in x]
    assert lost and "Python worker exited unexpectedly" in out.stderr, out.stderr[-4000:]
    assert _counts(result["killed"]) == _counts(result["clean"])
    assert result["clean"]["rows_read"] == 40 and result["clean"]["entities"] > 40
    expected, got = entity_table(clean), entity_table(killed)
    assert len(expected) == result["clean"]["entities"]
    pd.testing.assert_frame_equal(got, expected)
    assert not _temporaries(clean) and not _temporaries(killed)


@pytest.mark.slow
def test_a_killed_run_leaves_no_table_and_a_rerun_completes(spark, tmp_path):
    notes = _write_notes(tmp_path / "notes.parquet", 2000)
    output = tmp_path / "entities"
    command = [*_sparkner(), "annotate", str(notes), str(output), "--id-col", "id",
               "--master", "local[2]", "--json"]  # fmt: skip
    log = tmp_path / "killed.log"
    with open(log, "w") as stream:
        run = subprocess.Popen(
            command, stdout=stream, stderr=subprocess.STDOUT, env=_env(), start_new_session=True
        )
    try:
        # Kill in the middle of the write: once a task has committed its part of the table
        # into the temporary folder (out of its attempt folder), while others still run.
        deadline = time.monotonic() + 240
        while not _committed_parts(output):
            assert run.poll() is None, f"the run ended before it was killed:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no output after 240 s:\n{log.read_text()}"
            time.sleep(0.1)
        assert run.poll() is None, "the run ended before it could be killed; use more notes"
    finally:
        kill_sessions([run.pid])
        run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert not output.exists(), "a killed run left a table under the output's name"
    # What the finished tasks wrote stays in the temporary folder, never under the output.
    assert _committed_parts(output), "the killed run's temporary folder should remain"

    rerun = _run([*command, "--overwrite", "--quiet"])
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert not _temporaries(output), "the rerun left a temporary folder"
    assert summary["rows_read"] == 2000

    # A clean run of the same job, here in the test's own session.
    clean = tmp_path / "clean"
    expected = annotate(spark, AnnotateJob(str(notes), str(clean), id_col="id"), progress=None)
    assert _counts(summary) == _counts(expected.as_dict())
    got = entity_table(output)
    assert len(got) == summary["entities"] and set(got["id"]) < {f"n{i:05d}" for i in range(2000)}
    pd.testing.assert_frame_equal(got, entity_table(clean))
