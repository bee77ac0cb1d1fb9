"""Latency of the LightPipeline on one note of about 100 tokens, over fresh processes.

A few milliseconds move by a millisecond or more from one process to the next on a shared
machine, so one process's median says little. Each process loads
``PretrainedPipeline("ner_clinical_pipeline")``, picks the same real MTSamples note as
``bench/throughput.py``, makes 10 warm-up calls (not counted) and times ``--calls`` calls of
``light_model.annotate(note)``. Prints each process's median and p90, the median of the
medians, and one JSON line.

    python bench/latency.py [--processes 5] [--calls 400] [--data ../shared/data]

Takes about 10 s per process on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_support import (
    DATA,
    GOAL_LATENCY_MS,
    latency,
    latency_note,
    load_notes,
    log,
    parse_or_serve_role,
    run_role,
)


def role_latency(spec: dict[str, Any]) -> dict[str, Any]:
    from sparkner.apps.pretrained import PretrainedPipeline

    light = PretrainedPipeline("ner_clinical_pipeline").light_model
    note = latency_note(light, load_notes(Path(spec["data"])))
    return latency(light, note, spec["calls"])


ROLES = {"latency": role_latency}


def main() -> int | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=5, help="fresh processes, one by one")
    parser.add_argument("--calls", type=int, default=400, help="timed calls per process")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parse_or_serve_role(parser, ROLES)
    if args is None:  # a role, run in its own process
        return None

    runs = []
    with tempfile.TemporaryDirectory(prefix="sparkner-latency-") as scratch:
        for number in range(1, args.processes + 1):
            spec = {
                "data": str(args.data),
                "calls": args.calls,
                "load_average_before": os.getloadavg()[0],
            }
            runs.append(run_role("latency", spec, scratch, __file__))
            run = runs[-1]
            log(
                f"process {number}/{args.processes}: median {run['latency_ms_median']:.2f} ms, "
                f"p90 {run['latency_ms_p90']:.2f} ms (load {run['load_average_before']:.1f})"
            )
    medians = [run["latency_ms_median"] for run in runs]
    median = statistics.median(medians)
    print(
        f"LightPipeline.annotate(one note of {runs[0]['latency_note_tokens']} tokens), "
        f"{args.calls} calls in each of {len(runs)} processes: medians "
        f"{' / '.join(f'{m:.1f}' for m in medians)} ms; median of medians {median:.1f} ms "
        f"(goal < {GOAL_LATENCY_MS:.0f} ms)"
    )
    print(
        json.dumps(
            {
                "bench": "latency",
                "note_tokens": runs[0]["latency_note_tokens"],
                "calls": args.calls,
                "medians_ms": [round(m, 3) for m in medians],
                "p90s_ms": [round(run["latency_ms_p90"], 3) for run in runs],
                "median_ms": round(median, 3),
            }
        )
    )
    return None


if __name__ == "__main__":
    sys.exit(main())
