"""Test-only fault injection into the Python workers' calls; inert in every real run.

``tests/runtime/test_failures.py`` sets, through ``spark.executorEnv``:

- ``SPARKNER_TEST_KILL_WORKER`` to a marker file's path: the first worker to create the file
  exits at once, as a crash would (Spark must retry the task);
- ``SPARKNER_TEST_FAIL_TASK`` to anything: every call raises, on every attempt, so the job
  fails (the test checks what a failed job shows).

The variables are read once, when a worker imports this module; with neither set,
:data:`INJECTED` is None and the UDF wrapper never calls into this module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TypeVar

KILL_WORKER = "SPARKNER_TEST_KILL_WORKER"
FAIL_TASK = "SPARKNER_TEST_FAIL_TASK"

T = TypeVar("T")


class InjectedTaskFailure(RuntimeError):
    """Test-only: the failure that ``SPARKNER_TEST_FAIL_TASK`` injects."""


def _injected_fault() -> str | None:
    if os.environ.get(FAIL_TASK):
        return FAIL_TASK
    return KILL_WORKER if os.environ.get(KILL_WORKER) else None


# Which fault this process injects: None (every real run), FAIL_TASK or KILL_WORKER.
INJECTED = _injected_fault()


def injected(calls: Iterator[T]) -> Iterator[T]:
    """``calls``, with this process's fault injected before each one."""
    for call in calls:
        if INJECTED == FAIL_TASK:
            raise InjectedTaskFailure(f"test-only failure injected by {FAIL_TASK}")
        _kill_once(os.environ.get(KILL_WORKER, ""))
        yield call


def _kill_once(marker: str) -> None:
    """The first worker to create ``marker`` exits at once; the others go on."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # atomic: one winner
    except FileExistsError:
        return
    os._exit(1)
