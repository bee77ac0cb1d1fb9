"""The bundled clinical pipeline of this checkout against an earlier commit's, side by side.

    python bench/versions.py --baseline f0b202e [--pipeline ner_clinical_pipeline]
                             [--notes 300] [--spark-notes 2000] [--runs 5] [--data ../shared/data]

The earlier commit is checked out into a temporary git worktree. Each measure then runs in a
fresh process per version (its code and bundled models first on ``PYTHONPATH``), the two
versions alternating, so that neither warms the other's caches and a slow spell of the machine
falls on both:

- LightPipeline: ``PretrainedPipeline(name).annotate`` over ``--notes`` MTSamples notes in one
  call, after one untimed warm-up call: notes/s;
- Spark ``local[2]``: ``PretrainedPipeline(name).transform`` of ``--spark-notes`` notes (8
  partitions) to Spark's ``noop`` sink, after one untimed warm-up job on 50 notes: notes/s.

Prints the median of ``--runs`` processes per version and measure, the ratio current /
baseline, and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_support import DATA, REPO, load_notes, log, machine, parse_or_serve_role, run_role


def light_role(spec: dict[str, Any]) -> dict[str, Any]:
    from sparkner.pretrained import PretrainedPipeline

    notes = load_notes(Path(spec["data"]))[: spec["notes"]]
    pipeline = PretrainedPipeline(spec["pipeline"])
    pipeline.annotate(notes[:20])
    started = time.perf_counter()
    pipeline.annotate(notes)
    return {"notes_per_s": len(notes) / (time.perf_counter() - started)}


def spark_role(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    import sparkner
    from sparkner.pretrained import PretrainedPipeline

    notes = load_notes(Path(spec["data"]))
    notes = [notes[i % len(notes)] for i in range(spec["notes"])]
    spark = sparkner.start(master="local[2]")
    pipeline = PretrainedPipeline(spec["pipeline"])

    def frame(texts: list[str]) -> Any:
        table = pd.DataFrame({"id": range(len(texts)), "text": texts})
        return spark.createDataFrame(table).repartition(8).cache()

    warm, timed = frame(notes[:50]), frame(notes)
    warm.count(), timed.count()
    pipeline.transform(warm).write.format("noop").mode("overwrite").save()
    started = time.perf_counter()
    pipeline.transform(timed).write.format("noop").mode("overwrite").save()
    seconds = time.perf_counter() - started
    spark.stop()
    return {"notes_per_s": len(notes) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="the earlier commit (any git ref); required")
    parser.add_argument("--pipeline", default="ner_clinical_pipeline")
    parser.add_argument("--notes", type=int, default=300, help="LightPipeline notes")
    parser.add_argument("--spark-notes", type=int, default=2000, help="local[2] notes")
    parser.add_argument("--runs", type=int, default=5, help="processes per version and measure")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parse_or_serve_role(parser, {"light": light_role, "spark": spark_role})
    if args is None:
        return
    if not args.baseline:
        parser.error("--baseline is required")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="sparkner-versions-") as scratch:
        tree = os.path.join(scratch, "baseline")
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", tree, args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            figures = _measure(args, {"baseline": tree, "current": str(REPO)}, scratch)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", tree], check=True
            )
    summary: dict[str, Any] = {"bench": "versions", "baseline": args.baseline}
    for measure, count in (("light", args.notes), ("spark", args.spark_notes)):
        medians = {v: statistics.median(runs) for v, runs in figures[measure].items()}
        ratio = medians["current"] / medians["baseline"]
        runs = {v: [round(r, 2) for r in rs] for v, rs in figures[measure].items()}
        print(
            f"{measure:<6} {count:>5} notes: baseline {medians['baseline']:.2f} notes/s, "
            f"current {medians['current']:.2f} notes/s, ratio {ratio:.3f}  (runs {runs})"
        )
        summary[measure] = {"notes": count, **medians, "ratio": round(ratio, 3), "runs": runs}
    print(json.dumps(summary))


def _measure(
    args: argparse.Namespace, trees: dict[str, str], scratch: str
) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {"light": {}, "spark": {}}
    for run in range(args.runs):
        for measure, count in (("light", args.notes), ("spark", args.spark_notes)):
            # The versions take turns going first.
            order = list(trees) if run % 2 == 0 else list(reversed(trees))
            for version in order:
                spec = {
                    "data": str(args.data),
                    "pipeline": args.pipeline,
                    "notes": count,
                    "load_average_before": os.getloadavg()[0],
                }
                env = {"PYTHONPATH": trees[version]}
                result = run_role(measure, spec, scratch, __file__, env)
                figures[measure].setdefault(version, []).append(result["notes_per_s"])
                log(f"run {run + 1} {measure} {version}: {result['notes_per_s']:.2f} notes/s")
    return figures


if __name__ == "__main__":
    sys.exit(main())
