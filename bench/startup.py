"""A first run's wall time: ``sparkner demo`` and ``sparkner annotate`` on 100 and 1,000
MTSamples notes, each a fresh process as a user starts it, in-process (the default for a
small local input) and on Spark (``--spark``, a fresh JVM and Python workers each run).

The runs take turns (one of each case per round), so that a machine whose load drifts slows
every case alike; each case's figure is the median of its rounds. The load average is read
before each run and reported beside the figures. Prints a table, then one JSON line.

    python bench/startup.py                       # 5 rounds: about 6 min on an idle 2-core box
    python bench/startup.py --rounds 3 --sizes 100
    python bench/startup.py --levers --sizes 100  # the Spark path's warm-up, three ways

``--levers`` measures the Spark path's own start-up levers instead, each run a fresh process
that calls ``annotate(sparkner.start(), job)``: the warm-up job (models loaded in every Python
worker) run before reading the input (``sequential``, as before), beside it (``overlapped``,
the default) or not at all (``none``, what the command line does for a small input it must
run on Spark).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import (
    DATA,
    load_notes,
    log,
    machine,
    parse_or_serve_role,
    repeat,
    run_role,
    write_table,
)

# The goals, end to end (wall time of the command).
GOAL_DEMO_S = 10.0
GOAL_ANNOTATE_S = 12.0


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "sparkner.apps.cli", *args]


def _run(case: dict, scratch: str) -> dict:
    """One fresh process of ``case``: its wall time and what its summary says."""
    output = os.path.join(scratch, f"out-{case['name']}")
    args = list(case["args"])
    if case["kind"] == "annotate":
        args[2:2] = [output]  # after the input
    load = os.getloadavg()[0]
    begun = time.perf_counter()
    done = subprocess.run(_command(args), capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - begun
    if done.returncode != 0:
        raise RuntimeError(f"{case['name']} failed ({done.returncode}): {done.stderr[-2000:]}")
    shutil.rmtree(output, ignore_errors=True)
    if case["kind"] == "annotate":
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        startup, seconds = summary["startup_seconds"], summary["seconds"]
        in_process = summary["in_process"]
    else:
        lines = {line[:20].strip(): line[21:] for line in done.stdout.splitlines()}
        startup = float(lines["start-up"].split()[0])
        seconds = float(lines["annotating"].split()[0])
        in_process = "in-process" in lines.get("ran", "")
    return {
        "wall_s": wall,
        "startup_s": startup,
        "annotating_s": seconds,
        "in_process": in_process,
        "load": load,
    }


def _cases(sizes: list[int], tables: dict[int, str], spark_args: list[str]) -> list[dict]:
    cases = [
        {"name": "demo", "kind": "demo", "args": ["demo"], "goal": GOAL_DEMO_S},
        {"name": "demo --spark", "kind": "demo", "args": ["demo", *spark_args]},
    ]
    for size in sizes:
        base = ["annotate", tables[size], "--id-col", "id", "--json", "--quiet"]
        goal = GOAL_ANNOTATE_S if size <= 1000 else None
        cases.append({"name": f"annotate {size}", "kind": "annotate", "args": base, "goal": goal})
        cases.append(
            {"name": f"annotate {size} --spark", "kind": "annotate", "args": [*base, *spark_args]}
        )
    return cases


def _spark_role(spec: dict) -> dict:
    """In a fresh process: the annotate job on Spark with the warm-up ``spec['warm_up']``."""
    import sparkner
    from sparkner.apps.annotate import (
        TASKS_PER_CORE,
        AnnotateJob,
        JobColumns,
        annotate,
        load_models_in_workers,
        load_pipeline,
    )
    from sparkner.apps.annotate.job import default_parallelism

    started = time.perf_counter()
    job = AnnotateJob(spec["input"], spec["output"], id_col="id", overwrite=True)
    job.check()
    spark = sparkner.start()
    if spec["warm_up"] == "sequential":
        pipeline = load_pipeline(job.model)
        tasks = TASKS_PER_CORE * default_parallelism(spark)
        load_models_in_workers(spark, pipeline, JobColumns.of(pipeline), tasks)
    warm_up = spec["warm_up"] == "overlapped"
    summary = annotate(spark, job, progress=None, started=started, warm_up=warm_up)
    return {"seconds": summary.seconds, "startup_s": summary.startup_seconds}


def _levers(args: argparse.Namespace, tables: dict[int, str], scratch: str) -> None:
    ways = ("sequential", "overlapped", "none")
    runs: dict[tuple[int, str], list[dict]] = {(n, w): [] for n in args.sizes for w in ways}
    for number in range(1, args.rounds + 1):
        for size in args.sizes:
            for way in ways:
                spec = {
                    "input": tables[size],
                    "output": os.path.join(scratch, "out-levers"),
                    "warm_up": way,
                    "load_average_before": os.getloadavg()[0],
                }
                begun = time.perf_counter()
                result = run_role("spark", spec, scratch, __file__)
                result["wall_s"] = time.perf_counter() - begun
                runs[(size, way)].append(result)
                log(f"round {number} {size} notes, warm-up {way}: {result['wall_s']:.1f} s")
    print(machine())
    print(f"{'notes':>6}  {'warm-up':<11}{'wall s (median)':>16}{'load':>7}  runs (wall s)")
    report = []
    for (size, way), results in runs.items():
        wall = statistics.median(r["wall_s"] for r in results)
        load = statistics.median(r["load_average_before"] for r in results)
        walls = [round(r["wall_s"], 2) for r in results]
        print(f"{size:>6}  {way:<11}{wall:>16.1f}{load:>7.1f}  {' / '.join(map(str, walls))}")
        report.append(
            {"notes": size, "warm_up": way, "wall_s": wall, "load_average": load, "runs": walls}
        )
    print(json.dumps({"bench": "startup-levers", "rounds": args.rounds, "cases": report}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each case")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument(
        "--spark-args",
        default="--spark",
        help="how the Spark cases ask for Spark (e.g. '--master local[2]')",
    )
    parser.add_argument("--levers", action="store_true", help="the Spark path's warm-up ways")
    args = parse_or_serve_role(parser, {"spark": _spark_role})
    if args is None:
        return
    notes = load_notes(args.data)
    scratch = tempfile.mkdtemp(prefix="sparkner-startup-")
    try:
        tables = {}
        for size in args.sizes:
            tables[size] = os.path.join(scratch, f"notes-{size}.parquet")
            write_table(tables[size], repeat(notes, size))
        if args.levers:
            _levers(args, tables, scratch)
            return
        cases = _cases(args.sizes, tables, args.spark_args.split())
        runs: dict[str, list[dict]] = {case["name"]: [] for case in cases}
        for number in range(1, args.rounds + 1):
            for case in cases:
                result = _run(case, scratch)
                runs[case["name"]].append(result)
                log(
                    f"round {number}/{args.rounds} {case['name']}: {result['wall_s']:.1f} s "
                    f"(load {result['load']:.1f})"
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(machine())
    print(
        f"{'case':<26}{'wall s (median)':>16}{'start-up s':>12}{'annotating s':>14}"
        f"{'load':>7}  {'ran':<11}{'goal':>7}  runs (wall s)"
    )
    report = []
    for case in cases:
        results = runs[case["name"]]
        row = {
            "case": case["name"],
            "wall_s": statistics.median(r["wall_s"] for r in results),
            "startup_s": statistics.median(r["startup_s"] for r in results),
            "annotating_s": statistics.median(r["annotating_s"] for r in results),
            "load_average": statistics.median(r["load"] for r in results),
            "in_process": all(r["in_process"] for r in results),
            "runs_wall_s": [round(r["wall_s"], 2) for r in results],
            "goal_s": case.get("goal"),
        }
        goal = row["goal_s"]
        met = "" if goal is None else ("met" if row["wall_s"] <= goal else "NOT met")
        print(
            f"{row['case']:<26}{row['wall_s']:>16.1f}{row['startup_s']:>12.1f}"
            f"{row['annotating_s']:>14.1f}{row['load_average']:>7.1f}  "
            f"{'in-process' if row['in_process'] else 'Spark':<11}"
            f"{'' if goal is None else f'<= {goal:.0f}':>7}  "
            f"{' / '.join(f'{w:.1f}' for w in row['runs_wall_s'])} {met}"
        )
        report.append(row)
    print(json.dumps({"bench": "startup", "rounds": args.rounds, "cases": report}))


if __name__ == "__main__":
    main()
