"""The job's progress: finished tasks of the running Spark stages, while the table is written."""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

from pyspark.sql import SparkSession

from sparkner.runtime.shipping import is_connect


class ProgressReporter:
    """Reports finished tasks of the running Spark stages on ``stream`` while a job runs.

    On a terminal one line is redrawn each second; otherwise (logs, CI) a line is written
    when the count changes, at most every 10 seconds.
    """

    def __init__(self, spark: SparkSession, stream: TextIO | None) -> None:
        self._spark = spark
        self._connect = is_connect(spark)
        # Over Connect, the server reports progress with each response; the last report.
        self._reported: tuple[int, int] = (0, 0)
        self._tracker = None if self._connect else spark.sparkContext.statusTracker()
        self._stream = stream
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sparkner-progress", daemon=True)
        self._interactive = bool(stream is not None and stream.isatty())
        self._started = time.perf_counter()

    def __enter__(self) -> ProgressReporter:
        if self._stream is not None:
            if self._connect:
                # pyspark types the handler as its ProgressHandler ABC, though it takes (and
                # documents) any callable of that signature, such as this method.
                self._spark.registerProgressHandler(self._on_connect_progress)  # type: ignore[arg-type]
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._connect and self._stream is not None:
            # As in __enter__: any callable is a handler, whatever pyspark's type says.
            self._spark.removeProgressHandler(self._on_connect_progress)  # type: ignore[arg-type]

    def _on_connect_progress(
        self, stages: Any, inflight_tasks: int, operation_id: str | None, done: bool
    ) -> None:
        stages = list(stages or [])
        self._reported = (
            sum(s.num_completed_tasks for s in stages),
            sum(s.num_tasks for s in stages),
        )

    def _task_counts(self) -> tuple[int, int]:
        """Finished and all tasks of the running stages."""
        if self._tracker is None:
            return self._reported
        done = total = 0
        for stage_id in self._tracker.getActiveStageIds():
            info = self._tracker.getStageInfo(stage_id)
            if info is not None:
                done += info.numCompletedTasks
                total += info.numTasks
        return done, total

    def _run(self) -> None:
        last, last_time = "", 0.0
        period = 1.0 if self._interactive else 10.0
        while not self._done.wait(1.0):
            line = self.describe()
            now = time.perf_counter()
            if line and line != last and now - last_time >= period:
                self._write(line)
                last, last_time = line, now
        if self._interactive and last:
            self._write("", end="\n")

    def describe(self) -> str:
        done, total = self._task_counts()
        if not total:
            return ""
        elapsed = time.perf_counter() - self._started
        return f"annotating: {done}/{total} tasks done, {elapsed:.0f} s"

    def _write(self, line: str, end: str = "") -> None:
        assert self._stream is not None
        if self._interactive:
            self._stream.write("\r" + line.ljust(60) + end)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
