"""What the bench scripts share: paths, the MTSamples notes, the one timing loop (warm-up runs
that are not counted, then timed runs, read as medians), progress lines, note tables, the
``sparkner annotate`` job with its CPU time, the roles a script runs in fresh processes, the
LightPipeline latency measure and bits of the reports.

A script run as ``python bench/x.py`` has ``bench/`` first on ``sys.path``: ``import
bench_support`` finds this module (a name no installed package has, so it shadows none).
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
# The default of every script's --data (or --data-dir): the shared data beside the checkout.
DATA = REPO.parent / "shared" / "data"
# The goal for one note of about LATENCY_TOKENS tokens (bench/throughput.py and
# bench/latency.py measure it).
GOAL_LATENCY_MS = 10.0
LATENCY_TOKENS = 100


def log(message: str) -> None:
    """A progress line on stderr (stdout holds the figures), with the script's name."""
    script = Path(sys.argv[0]).stem
    print(f"[{script} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    return f"machine: {os.cpu_count()} cores, Python {platform.python_version()}"


# -- notes ----------------------------------------------------------------------------------
def load_notes(data_dir: Path) -> list[str]:
    """The MTSamples transcriptions (about 4,966 notes), in file order."""
    import pandas as pd

    with lzma.open(Path(data_dir) / "unlabeled" / "mtsamples.csv.xz") as handle:
        return pd.read_csv(handle)["transcription"].dropna().tolist()


def repeat(notes: list[str], count: int) -> list[str]:
    """``count`` notes: the corpus, repeated as often as needed."""
    return [notes[i % len(notes)] for i in range(count)]


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` in slices of ``size``."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def write_table(path: str, texts: list[str]) -> None:
    """A note table (``id`` 0, 1, ..., ``text``) as one Parquet file, without Spark."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"id": pa.array(range(len(texts)), pa.int64()), "text": pa.array(texts)}), path
    )


def write_spark_table(spark: Any, notes: list[str], path: str) -> None:
    """A note table (``id``, ``text``) written by Spark in 8 files, so that reading it makes
    8 tasks."""
    import pandas as pd

    frame = spark.createDataFrame(pd.DataFrame({"id": range(len(notes)), "text": notes}))
    frame.repartition(8).write.parquet(path)


def write_noop(frame: Any) -> None:
    """Run the whole job of ``frame`` and keep nothing (Spark's ``noop`` format)."""
    frame.write.format("noop").mode("overwrite").save()


# -- the timing loop ------------------------------------------------------------------------
@dataclass
class Timings:
    """Wall and CPU seconds (this process) of each timed run, and what the last run returned."""

    seconds: list[float]
    cpu: list[float]
    result: Any = None

    def rates(self, count: float) -> list[float]:
        """``count`` (tokens, words, lookups) per second, for each run."""
        return [count / s for s in self.seconds]

    def median_rate(self, count: float) -> float:
        return statistics.median(self.rates(count))


def timed(
    run: Callable[[], object],
    runs: int,
    warmup: int = 1,
    each: Callable[[int, float], None] | None = None,
) -> Timings:
    """Call ``run`` ``warmup`` times, not counted (imports, compilation, TensorFlow's first
    trace, thread pools, Python workers; 0 where the caller warmed up with other work), then
    ``runs`` times, timed. ``each(number, seconds)`` follows each timed run, outside its time
    (a progress line)."""
    for _ in range(warmup):
        run()
    seconds: list[float] = []
    cpu: list[float] = []
    result = None
    for number in range(1, runs + 1):
        cpu_start, start = time.process_time(), time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        if each is not None:
            each(number, seconds[-1])
    return Timings(seconds, cpu, result)


def median_rate(count: float, run: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """``count`` per second of ``run``: the median of ``runs`` timed runs after one warm-up
    run, and the rate of each run."""
    timings = timed(run, runs)
    return timings.median_rate(count), timings.rates(count)


# -- the annotate job -----------------------------------------------------------------------
def annotate_timed(spark: Any, sampler: Any, **job: Any) -> tuple[Any, float, dict[str, float]]:
    """The ``sparkner annotate`` job (``apps.annotate.annotate``; columns ``text`` and ``id``,
    the output overwritten; ``job``: input, output, model): its summary, the wall seconds of
    the whole call and the CPU seconds it took by process (``sampler``, a
    ``procfs.MemorySampler``: driver, JVM, Python workers)."""
    from sparkner.apps.annotate import AnnotateJob, annotate

    request = AnnotateJob(text_col="text", id_col="id", overwrite=True, **job)
    cpu_before = sampler.cpu_seconds()
    begun = time.perf_counter()
    summary = annotate(spark, request, progress=None)
    seconds = time.perf_counter() - begun
    cpu_after = sampler.cpu_seconds()
    return summary, seconds, {k: cpu_after[k] - cpu_before[k] for k in cpu_before}


# -- roles: parts of a script that run in a fresh process -----------------------------------
def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path) as handle:
        return json.load(handle)


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    with open(path, "w") as handle:
        json.dump(data, handle)


def run_role(
    role: str,
    spec: dict[str, Any],
    scratch: str,
    script: str,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one role of ``script`` (``--role``) in a fresh Python process (a fresh JVM for
    Spark), with ``env`` added to the environment, and return its result."""
    spec_path = os.path.join(scratch, f"spec-{role}-{time.monotonic_ns()}.json")
    result_path = spec_path.replace("spec-", "result-")
    write_json(spec_path, spec)
    environment = dict(os.environ, **(env or {}))
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, script, "--role", role, "--spec", spec_path]
    subprocess.run([*command, "--result", result_path], check=True, env=environment)
    result = read_json(result_path)
    result["load_average_before"] = spec["load_average_before"]
    return result


def parse_or_serve_role(
    parser: argparse.ArgumentParser, roles: dict[str, Callable[[dict[str, Any]], Any]]
) -> argparse.Namespace | None:
    """The script's arguments; or, in a process that :func:`run_role` started (its hidden
    ``--role``, ``--spec`` and ``--result``), None once the role has run on its spec and
    written its result."""
    parser.add_argument("--role", choices=sorted(roles), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.role:
        return args
    write_json(args.result, roles[args.role](read_json(args.spec)))
    return None


# -- the latency of one note ----------------------------------------------------------------
def latency_note(light: Any, corpus: list[str]) -> str:
    """A real note of about LATENCY_TOKENS tokens (token counts from the text stages only)."""
    from sparkner import LightPipeline

    text_stages = LightPipeline(light.stages[:3])
    best: tuple[int, str] | None = None
    for chunk in batches(corpus, 500):
        for note, row in zip(chunk, text_stages.annotate(chunk), strict=True):
            distance = abs(len(row["token"]) - LATENCY_TOKENS)
            if best is None or distance < best[0]:
                best = (distance, note)
        if best is not None and best[0] <= 5:
            break
    assert best is not None
    return best[1]


def latency(light: Any, note: str, calls: int) -> dict[str, Any]:
    """Milliseconds per ``light.annotate(note)``: median and p90 of ``calls`` calls, after 10
    warm-up calls."""
    tokens = len(light.annotate(note)["token"])
    timings = timed(lambda: light.annotate(note), calls, warmup=10)
    latencies = sorted(s * 1000 for s in timings.seconds)
    return {
        "latency_note_tokens": tokens,
        "latency_calls": len(latencies),
        "latency_ms_median": statistics.median(latencies),
        "latency_ms_p90": latencies[int(0.9 * (len(latencies) - 1))],
    }


# -- reports --------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def fmt_runs(values: list[float]) -> str:
    return " / ".join(f"{v:,.0f}" for v in values)
