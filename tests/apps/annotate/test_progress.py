"""The annotate job's progress lines: finished tasks of the running stages, never note text."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

from sparkner.apps.annotate import ProgressReporter

# Two running stages, one of which finished between the tracker's two answers.
RUNNING = {1: SimpleNamespace(numCompletedTasks=3, numTasks=8), 2: None}


def _session(stages: dict) -> SimpleNamespace:
    """A classic session whose status tracker reports ``stages``."""
    tracker = SimpleNamespace(getActiveStageIds=lambda: list(stages), getStageInfo=stages.get)
    return SimpleNamespace(sparkContext=SimpleNamespace(statusTracker=lambda: tracker))


def test_a_line_for_the_running_stages_on_a_log():
    stream = io.StringIO()
    reporter = ProgressReporter(_session(RUNNING), stream)
    assert reporter.describe().startswith("annotating: 3/8 tasks done, ")
    with reporter:
        time.sleep(1.5)  # the reporter looks once a second
    assert stream.getvalue().startswith("annotating: 3/8 tasks done, ")
    assert stream.getvalue().count("\n") == 1  # a log gets whole lines, at most every 10 s


def test_nothing_while_no_stage_runs():
    stream = io.StringIO()
    with ProgressReporter(_session({}), stream) as reporter:
        assert reporter.describe() == ""
        time.sleep(1.5)
    assert stream.getvalue() == ""
    with ProgressReporter(_session(RUNNING), None):  # --quiet: no thread, no lines
        pass
