"""Scale: ``sparkner annotate`` on a large note table, on ``local[2]`` with a 1 GB JVM heap.

The notes are the MTSamples transcriptions (``unlabeled/mtsamples.csv.xz``, column
``transcription``, about 4,966 notes), repeated until ``--notes`` is reached (200,000 by
default), each row with its own id (``n0000000``, ``n0000001``, ...), written as Parquet in
``--files`` files to a temporary folder. The real console script runs as its own process::

    sparkner annotate NOTES OUT --id-col id --master local[2] --json --overwrite

In local mode the executor lives in the driver's JVM, so "1 GB executor memory" is a 1 GB JVM
heap. ``sparkner annotate`` has no ``--conf`` option and ``sparkner.start()`` passes
``spark.driver.memory`` (4g, from ``conf/spark-defaults.conf``) to the JVM's launcher as a
``--conf``; the launcher reads ``PYSPARK_SUBMIT_ARGS`` after those, so
``PYSPARK_SUBMIT_ARGS="--driver-memory 1g pyspark-shell"`` wins. (A ``spark-defaults.conf`` in
``SPARK_CONF_DIR`` would not: a ``--conf`` beats the properties file.) The benchmark reads the
heap the JVM really got (``-Xmx`` in ``/proc/<pid>/cmdline``) and fails if it is not the one
asked for.

Every second it samples, from ``/proc``, the resident memory (RSS) of the driver (the Python
process of ``sparkner annotate``), its JVM and its Python workers (``pyspark.daemon`` and the
workers it forks), and prints the peaks, memory over the run (at 10%, 20%, ... 100% of its
wall time) and whether it stayed flat (from the middle of the annotation, the time Python
workers run, to its end; judged when that lasts 2 minutes or more, as shorter runs are mostly
warm-up); then the rows in (notes) and out (entities), checked
against the job's own summary (rows read == notes, rows written == entity rows in the table,
distinct ids in the table == notes with entities), the summary itself (tokens, tokens/s), a
table and one JSON line.

    python bench/scale.py                 # 200,000 notes (about 25 minutes on 2 idle cores)
    python bench/scale.py --notes 20000   # 2.6 minutes on 2 idle cores
    python bench/scale.py --quick         # 2,000 notes: a smoke run, about a minute
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_support import DATA, REPO, load_notes, log
from procfs import MemorySampler, kill_sessions

QUICK_NOTES = 2_000
# Memory is "flat" when, from the middle of the annotation (while Python workers run) to its
# end, neither the JVM, nor the Python workers, nor all processes together grew by more than
# this share (or this many MB, for small figures).
FLAT_SHARE = 0.10
FLAT_MB = 100
# A shorter annotation is mostly warm-up (TensorFlow and the models loading in each worker, the
# first batches): flatness is not judged.
FLAT_MIN_SECONDS = 120
TIMELINE_POINTS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)  # % of the run's wall time


def heap_bytes(size: str) -> int:
    """A JVM memory size (``1g``, ``1024m``, ``1048576k``, bytes) in bytes."""
    match = re.fullmatch(r"(\d+)([kmgt]?)b?", size.strip().lower())
    if not match:
        raise ValueError(f"not a memory size: {size!r} (e.g. 1g, 1024m)")
    return int(match.group(1)) * 1024 ** "_kmgt".index(match.group(2) or "_")


# -- the note table ------------------------------------------------------------------------
def write_notes(folder: Path, notes: list[str], count: int, files: int) -> tuple[int, int]:
    """``count`` notes (the corpus repeated), ids ``n0000000`` ..., in ``files`` Parquet files
    (fewer for a tiny table); returns the rows and the files written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True)
    per_file = -(-count // files)
    written = number = 0
    for number, start in enumerate(range(0, count, per_file), start=1):
        rows = range(start, min(start + per_file, count))
        table = pa.table(
            {
                "id": pa.array([f"n{i:07d}" for i in rows], pa.string()),
                "text": pa.array([notes[i % len(notes)] for i in rows], pa.string()),
            }
        )
        pq.write_table(table, folder / f"part-{number:05d}.parquet")
        written += table.num_rows
    return written, number


def parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("*.parquet")))


def distinct_ids(folder: Path) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ids = pq.read_table(folder, columns=["id"]).column("id")
    return int(pc.count_distinct(ids).as_py())


# -- memory over the run ------------------------------------------------------------------
def at_share(samples: list[dict[str, Any]], share: float) -> dict[str, Any]:
    """The sample nearest to ``share`` of the time from the first sample to the last."""
    first, last = samples[0]["t"], samples[-1]["t"]
    return min(samples, key=lambda s: abs(s["t"] - (first + share * (last - first))))


def memory_report(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Peaks, the timeline at TIMELINE_POINTS and the flatness test (MB)."""
    keys = ("driver_kb", "jvm_kb", "daemon_kb", "workers_kb", "one_worker_kb", "total_kb")
    peaks = {k.replace("_kb", "_mb"): max(s[k] for s in samples) / 1024 for k in keys}
    peaks["workers"] = max(s["workers"] for s in samples)
    timeline = []
    for point in TIMELINE_POINTS:
        s = at_share(samples, point / 100)
        timeline.append(
            {"percent": point, "t": round(s["t"]), "workers": s["workers"]}
            | {k.replace("_kb", "_mb"): round(s[k] / 1024) for k in keys}
        )
    # Flat: from the middle of the annotation (the samples with Python workers running, so
    # that JVM start, model loading and TensorFlow's start in the workers are left out) to
    # its end.
    working = [s for s in samples if s["workers"]] or samples
    middle, end = at_share(working, 0.5), working[-1]
    seconds = working[-1]["t"] - working[0]["t"]
    growth = {}
    for key in ("jvm_kb", "workers_kb", "total_kb"):
        before, after = middle[key] / 1024, end[key] / 1024
        growth[key.replace("_kb", "")] = {
            "at_50_mb": round(before),
            "at_end_mb": round(after),
            "growth_mb": round(after - before),
            "flat": after - before <= max(FLAT_MB, FLAT_SHARE * before),
        }
    return {
        "samples": len(samples),
        "peaks_mb": {k: round(v) if k != "workers" else v for k, v in peaks.items()},
        "timeline": timeline,
        "annotation_seconds": round(seconds),
        "annotation_growth": growth,
        "flat": all(g["flat"] for g in growth.values()) if seconds >= FLAT_MIN_SECONDS else None,
    }


# -- the run -------------------------------------------------------------------------------
def sparkner_command() -> list[str]:
    """The console script of this install (beside this interpreter, or the repository's)."""
    for script in (Path(sys.executable).with_name("sparkner"), REPO / ".venv" / "bin" / "sparkner"):
        if script.exists():
            return [str(script)]
    return [sys.executable, "-m", "sparkner.apps.cli"]


def describe(sample: dict[str, Any] | None) -> str:
    if sample is None:
        return "no memory sample yet"
    mb = {k: v / 1024 for k, v in sample.items() if k.endswith("_kb")}
    return (
        f"RSS driver {mb['driver_kb']:,.0f} MB, JVM {mb['jvm_kb']:,.0f} MB, "
        f"{sample['workers']} workers {mb['workers_kb']:,.0f} MB, all {mb['total_kb']:,.0f} MB"
    )


def run_annotate(
    notes: Path, output: Path, master: str, memory: str, stderr_log: Path
) -> dict[str, Any]:
    """Run ``sparkner annotate`` with a ``memory`` JVM heap, sampling memory every second."""
    command = [
        *sparkner_command(),
        "annotate",
        str(notes),
        str(output),
        "--id-col",
        "id",
        "--master",
        master,
        "--json",
        "--overwrite",
    ]
    env = {**os.environ, "PYSPARK_SUBMIT_ARGS": f"--driver-memory {memory} pyspark-shell"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("SPARKNER_TEST_KILL_WORKER", None)
    log(f"running: PYSPARK_SUBMIT_ARGS={env['PYSPARK_SUBMIT_ARGS']!r} {' '.join(command)}")
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    sampler = MemorySampler(process.pid, period=1.0)
    sampler.start()

    def relay() -> None:
        """Keep the job's stderr in a file; show its progress lines with the memory now."""
        assert process.stderr is not None
        with open(stderr_log, "w") as keep:
            for line in process.stderr:
                keep.write(line)
                keep.flush()
                if line.startswith("annotating:"):
                    log(f"{line.strip()}; {describe(sampler.latest())}")

    relay_thread = threading.Thread(target=relay, name="stderr-relay", daemon=True)
    relay_thread.start()
    try:
        assert process.stdout is not None
        stdout = process.stdout.read()
        code = process.wait()
        wall = time.perf_counter() - started
    finally:
        # A finished driver's JVM and workers end by themselves; after an interruption,
        # nothing is waited for.
        try:
            kill_sessions([process.pid], grace_s=30 if process.poll() is not None else 0)
        except RuntimeError as exc:  # some outlived SIGKILL
            log(f"WARNING: {exc}")
    sampler.stop()
    relay_thread.join(timeout=30)
    if code != 0:
        tail = stderr_log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"sparkner annotate exited with {code}:\n{tail}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "command": command,
        "pyspark_submit_args": env["PYSPARK_SUBMIT_ARGS"],
        "wall_seconds": wall,
        "summary": summary,
        "max_heap": sampler.max_heap(),
        "jvm_seen": bool(sampler.jvm_argv),
        "memory": memory_report(sampler.samples),
    }


# -- the report ----------------------------------------------------------------------------
def report(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    """Print the figures, a table and one JSON line; return whether every check passed."""
    summary, memory = result["summary"], result["memory"]
    peaks, growth = memory["peaks_mb"], memory["annotation_growth"]
    checks = {
        f"JVM heap -Xmx is {args.memory}": result["max_heap"] is not None
        and heap_bytes(result["max_heap"]) == heap_bytes(args.memory),
        "rows read == notes written": summary["rows_read"] == result["notes_in"],
        "entity rows in the table == summary's rows written": result["rows_out"]
        == summary["entities"],
        "entities by type add up to rows written": sum(summary["entities_by_type"].values())
        == summary["entities"],
        "distinct ids in the table == notes with entities": result["distinct_ids_out"]
        == summary["notes_with_entities"],
    }
    flat = memory["flat"]
    flat_label = (
        f"memory flat over the second half of the annotation (JVM, workers, all: growth <= "
        f"{FLAT_SHARE:.0%} or {FLAT_MB} MB)"
    )
    load = result["load_average_before"]
    cores = os.cpu_count() or 1
    print(
        f"machine: {cores} cores; load average before the run {load:.2f}"
        + (" (BUSY: the time and tokens/s are low)" if load > 0.5 * cores else "")
    )
    print(
        f"command: PYSPARK_SUBMIT_ARGS={result['pyspark_submit_args']!r} "
        f"{' '.join(result['command'])}"
    )
    print(
        f"JVM heap: -Xmx{result['max_heap']} (from /proc/<jvm>/cmdline; asked for "
        f"{args.memory}); master {args.master}"
    )
    print()
    by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(summary["entities_by_type"].items()))
    rows = [
        ("notes in (rows read)", f"{result['notes_in']:,} ({summary['rows_read']:,})"),
        ("input files", f"{result['files']} Parquet files"),
        ("entity rows out (rows written)", f"{result['rows_out']:,} ({summary['entities']:,})"),
        ("entities by type", by_type),
        (
            "notes with entities (distinct ids out)",
            f"{summary['notes_with_entities']:,} ({result['distinct_ids_out']:,})",
        ),
        ("tokens", f"{summary['tokens']:,}"),
        (
            "job time (write), tokens/s",
            f"{summary['seconds']:,.1f} s, {summary['tokens_per_second']:,} tokens/s",
        ),
        (
            "wall time of the process (JVM start, models, job)",
            f"{result['wall_seconds']:,.1f} s ({result['wall_seconds'] / 60:.1f} min)",
        ),
        ("peak RSS: driver (Python)", f"{peaks['driver_mb']:,} MB"),
        ("peak RSS: JVM", f"{peaks['jvm_mb']:,} MB"),
        (
            "peak RSS: Python workers together (one at most; daemon)",
            f"{peaks['workers_mb']:,} MB ({peaks['one_worker_mb']:,} MB; "
            f"{peaks['daemon_mb']:,} MB), "
            f"{peaks['workers']} workers at most",
        ),
        ("peak RSS: all together", f"{peaks['total_mb']:,} MB"),
    ]
    for key, label in (("jvm", "JVM"), ("workers", "Python workers"), ("total", "all together")):
        g = growth[key]
        rows.append(
            (
                f"RSS at 50% -> end of the annotation: {label}",
                f"{g['at_50_mb']:,} -> {g['at_end_mb']:,} MB ({g['growth_mb']:+,} MB)",
            )
        )
    print("| measure | value |")
    print("| --- | ---: |")
    for label, value in rows:
        print(f"| {label} | {value} |")
    print()
    print(f"memory over the run (RSS MB; {memory['samples']} samples, one a second):")
    print()
    print("| % of run | s | driver | JVM | daemon | workers | Python workers | all |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p in memory["timeline"]:
        print(
            f"| {p['percent']}% | {p['t']:,} | {p['driver_mb']:,} | {p['jvm_mb']:,} | "
            f"{p['daemon_mb']:,} | {p['workers']} | {p['workers_mb']:,} | {p['total_mb']:,} |"
        )
    print()
    for label, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {label}")
    if flat is None:
        print(
            f"n/a  {flat_label}: not judged, the annotation took "
            f"{memory['annotation_seconds']} s (< {FLAT_MIN_SECONDS} s, mostly warm-up)"
        )
    else:
        checks[flat_label] = flat
        print(f"{'ok  ' if flat else 'FAIL'} {flat_label}")
    print("summary of sparkner annotate: " + json.dumps(summary))
    print(
        json.dumps(
            {
                "bench": "scale",
                "notes": result["notes_in"],
                "files": result["files"],
                "master": args.master,
                "memory": args.memory,
                "max_heap": result["max_heap"],
                "rows_in": summary["rows_read"],
                "rows_out": result["rows_out"],
                "tokens": summary["tokens"],
                "job_seconds": summary["seconds"],
                "tokens_per_second": summary["tokens_per_second"],
                "wall_seconds": round(result["wall_seconds"], 1),
                "peak_rss_mb": peaks,
                "flat": memory["flat"],
                "annotation_seconds": memory["annotation_seconds"],
                "annotation_growth": growth,
                "timeline": memory["timeline"],
                "checks": checks,
                "load_average_before": round(load, 2),
                "load_average_after": round(result["load_average_after"], 2),
            }
        )
    )
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200_000, help="notes in the table")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_NOTES:,} notes: a smoke run")
    parser.add_argument("--memory", default="1g", help="the JVM heap (the local executor's)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--files", type=int, default=8, help="Parquet files of the note table")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tmp", help="folder for the note and entity tables (default: TMPDIR)")
    args = parser.parse_args()
    if args.quick:
        args.notes = QUICK_NOTES
    if args.notes < 1 or args.files < 1:
        parser.error("--notes and --files must be at least 1")
    try:
        heap_bytes(args.memory)  # a bad size fails here, not in the JVM
    except ValueError as exc:
        parser.error(f"--memory: {exc}")

    with tempfile.TemporaryDirectory(prefix="sparkner-scale-", dir=args.tmp) as scratch:
        folder = Path(scratch)
        corpus = load_notes(args.data)
        notes_in, files = write_notes(folder / "notes", corpus, args.notes, args.files)
        log(f"{notes_in:,} notes ({len(corpus):,} MTSamples notes repeated) in {files} files")
        output = folder / "entities"
        load_before = os.getloadavg()[0]
        result = run_annotate(
            folder / "notes", output, args.master, args.memory, folder / "annotate-stderr.log"
        )
        result["load_average_before"] = load_before
        result["load_average_after"] = os.getloadavg()[0]
        result["notes_in"], result["files"] = notes_in, files
        result["rows_out"] = parquet_rows(output)
        result["distinct_ids_out"] = distinct_ids(output)
    return 0 if report(args, result) else 1


if __name__ == "__main__":
    sys.exit(main())
