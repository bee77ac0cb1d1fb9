"""Failures in the middle of ``sparkner annotate``: Spark retries, the table stays all or nothing.

* A Python worker that dies in the middle of a job (the test-only hook in ``sparkner/faults.py``,
  switched on by ``SPARKNER_TEST_KILL_WORKER``) is replaced and its task retried: the table and
  the summary's counts are those of an uninterrupted run.
* A ``sparkner annotate`` process killed while it writes leaves no table under the output's
  name, only its temporary folder, and a rerun with ``--overwrite`` writes the complete table
  (the same as a clean run) and removes that folder. Killed while it overwrites an existing
  table, it leaves that table as it was, byte for byte.
* A job whose tasks fail inside the Python worker (the test-only switch
  ``SPARKNER_TEST_FAIL_TASK``) ends with the worker's error and no note text in its output,
  its logs or any file it wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from tests_support import (
    SHORT_NOTES,
    entity_table,
    files_holding,
    kill_sessions,
    private_scratch_env,
    sparkner_command,
)

from sparkner.apps.annotate import TEMP_MARKER, AnnotateJob, annotate
from sparkner.apps.cli import main


def _write_notes(path: Path, count: int, prefix: str = "n", shift: int = 0) -> Path:
    """``count`` notes (the ones above, repeated, from the ``shift``-th) with a unique string
    id (``prefix`` and a number), as Parquet."""
    ids = [f"{prefix}{i:05d}" for i in range(count)]
    texts = [SHORT_NOTES[(i + shift) % len(SHORT_NOTES)] for i in range(count)]
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


def _run(
    command: list[str], timeout: float = 400, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a command in its own session (``env`` added to :func:`_env`); whatever it leaves
    behind is killed afterwards."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_env(), **(env or {})},
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        # A finished driver's JVM ends by itself; after a timeout, nothing is waited for.
        kill_sessions([process.pid], grace_s=30 if process.poll() is not None else 0)
        process.wait(timeout=30)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _env() -> dict[str, str]:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    env.pop("SPARKNER_TEST_KILL_WORKER", None)
    env.pop("SPARKNER_TEST_FAIL_TASK", None)
    return env


# In a fresh interpreter with its own session: local[2,4] lets a task fail 4 times (local
# mode's default is 1, no retries). spark.executorEnv passes the switch to the Python workers
# only; the marker file decides whether it fires: it exists during the uninterrupted run (the
# hook stays quiet), then is removed, so that the first batch of the second run kills its worker.
RETRY_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import sparkner
    from sparkner.apps.annotate import AnnotateJob, annotate

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


@pytest.fixture(scope="module")
def many_notes(spark, tmp_path_factory) -> tuple[Path, Path, dict]:
    """2,000 notes, and the table and counts of a clean run on them (in the test session)."""
    folder = tmp_path_factory.mktemp("many-notes")
    notes, clean = _write_notes(folder / "notes.parquet", 2000), folder / "clean"
    expected = annotate(spark, AnnotateJob(str(notes), str(clean), id_col="id"), progress=None)
    assert expected.rows_read == 2000
    return notes, clean, expected.as_dict()


def _kill_once_a_part_is_committed(command: list[str], output: Path, folder: Path) -> None:
    """Start ``command`` in its own session and SIGKILL it, its JVM and its Python workers in
    the middle of the write: once a task has committed its part of the table into the
    temporary folder (out of its attempt folder), while others still run. Its log and the
    scratch files it leaves (Spark's shuffle of the notes among them) go under ``folder``."""
    log = folder / "killed.log"
    env = {**_env(), **private_scratch_env(folder / "scratch")}
    with open(log, "w") as stream:
        run = subprocess.Popen(
            command, stdout=stream, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
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


@pytest.mark.slow
def test_a_killed_run_leaves_no_table_and_a_rerun_completes(many_notes, tmp_path):
    notes, clean, expected = many_notes
    output = tmp_path / "entities"
    command = [
        *sparkner_command(),
        "annotate",
        str(notes),
        str(output),
        "--id-col",
        "id",
        "--master",
        "local[2]",
        "--json",
    ]
    _kill_once_a_part_is_committed(command, output, tmp_path)
    assert not output.exists(), "a killed run left a table under the output's name"
    # What the finished tasks wrote stays in the temporary folder, never under the output.
    assert _committed_parts(output), "the killed run's temporary folder should remain"
    # The shuffle of the notes that Spark leaves in its local folders is encrypted
    # (spark.io.encryption.enabled): no note can be read from it.
    shuffled = [p for p in (tmp_path / "scratch" / "local").rglob("shuffle_*.data")]
    assert shuffled, "the job should have spread its one input partition with a shuffle"
    notes_text = [note for note in SHORT_NOTES if note and len(note) > 20]
    assert notes_text and not any(files_holding(tmp_path / "scratch", n) for n in notes_text)

    rerun = _run([*command, "--overwrite", "--quiet"])
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert not _temporaries(output), "the rerun left a temporary folder"
    assert summary["rows_read"] == 2000
    # The same counts and table as a clean run of the same job (in the test's own session).
    assert _counts(summary) == _counts(expected)
    got = entity_table(output)
    assert len(got) == summary["entities"] and set(got["id"]) < {f"n{i:05d}" for i in range(2000)}
    pd.testing.assert_frame_equal(got, entity_table(clean))


@pytest.mark.slow
def test_a_failed_task_shows_no_note_text(tmp_path):
    """Every task fails inside the Python worker, on every attempt (test-only switch
    ``SPARKNER_TEST_FAIL_TASK`` in ``sparkner/faults.py``): the job's output, its logs (the
    driver's JVM, which in local mode is also the executor's) and every file the run wrote
    for itself (temporary files, Spark's local folders, its event log) hold no note text."""
    marker = f"MARKER-FAILED-TASK-{secrets.token_hex(4)}"  # in no setting, only in the notes
    ids = [f"n{i:05d}" for i in range(40)]
    texts = [
        None if note is None else f"{note} {marker} reports fever."
        for note in (SHORT_NOTES[i % len(SHORT_NOTES)] for i in range(40))
    ]
    notes = tmp_path / "notes.parquet"
    # Uncompressed, so that the search below must find the marker in it.
    pd.DataFrame({"id": ids, "text": texts}).to_parquet(notes, compression=None)
    output, scratch = tmp_path / "entities", tmp_path / "scratch"
    env = {**private_scratch_env(scratch), "SPARKNER_TEST_FAIL_TASK": "1"}
    # local[2,2]: a failed task is tried twice, and fails twice.
    command = [
        *sparkner_command(),
        "annotate",
        str(notes),
        str(output),
        "--id-col",
        "id",
        "--master",
        "local[2,2]",
    ]
    out = _run(command, env=env)  # waits for the JVM to end (and clean up) by itself
    assert out.returncode == 1, out.stderr[-4000:]
    error = (
        "sparkner.runtime.faults.InjectedTaskFailure: test-only failure injected by "
        "SPARKNER_TEST_FAIL"
    )
    assert error in out.stderr, out.stderr[-4000:]
    assert "failed 2 times; aborting job" in out.stderr, out.stderr[-4000:]
    assert marker not in out.stdout and marker not in out.stderr
    assert not output.exists() and not _temporaries(output)
    # The search works (it finds the notes' own file), the event log is there, in plain
    # JSON, with the failed job; nothing else the run wrote holds the marker.
    assert files_holding(tmp_path, marker) == [notes]
    assert files_holding(scratch / "events", "SparkListenerApplicationStart")
    assert files_holding(scratch / "events", '"Job Result":{"Result":"JobFailed"')


def _file_digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path) and the SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
def test_a_killed_overwrite_keeps_the_old_table_and_a_rerun_replaces_it(
    spark, many_notes, tmp_path
):
    notes, clean, expected = many_notes
    output = tmp_path / "entities"
    # A first run writes a good table of other notes.
    old_notes = _write_notes(tmp_path / "old.parquet", 60, prefix="old", shift=5)
    first = annotate(spark, AnnotateJob(str(old_notes), str(output), id_col="id"), progress=None)
    before, old_table = _file_digests(output), entity_table(output)
    assert "_SUCCESS" in before and len(old_table) == first.entities > 60

    # A second run, with --overwrite, on the 2,000 notes is SIGKILLed in the middle.
    command = [
        *sparkner_command(),
        "annotate",
        str(notes),
        str(output),
        "--id-col",
        "id",
        "--master",
        "local[2]",
        "--json",
        "--overwrite",
        "--quiet",
    ]
    _kill_once_a_part_is_committed(command, output, tmp_path)
    # The old table is there, byte for byte; the new parts sit only in the temporary folder.
    assert _file_digests(output) == before
    pd.testing.assert_frame_equal(entity_table(output), old_table)
    assert _committed_parts(output)

    # The same command again (in this process: main() takes the running session) replaces
    # the table with the one of a clean run, and removes the killed run's temporary folder.
    assert main(command[len(sparkner_command()) :]) == 0
    assert not _temporaries(output), "the rerun left a temporary folder"
    got = entity_table(output)
    pd.testing.assert_frame_equal(got, entity_table(clean))
    assert len(got) == expected["entities"] and not set(got["id"]) & set(old_table["id"])
