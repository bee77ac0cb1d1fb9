"""Throughput of DocumentAssembler + SentenceDetector + Tokenizer over the MTSamples notes.

Prints tokens per second for the LightPipeline (one process, one core) and for Spark on
``local[2]`` (notes read from Parquet, annotations written to the ``noop`` format so the job
really runs), as medians of several timed runs after one warm-up run that is not counted.

    python bench/text_stages.py [--runs 5] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench_support import (
    DATA,
    batches,
    load_notes,
    machine,
    median_rate,
    write_noop,
    write_spark_table,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    from pyspark.ml import Pipeline

    import sparkner
    from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer

    notes = load_notes(args.data)
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    light = LightPipeline(stages)

    def light_run() -> int:
        return sum(len(light.annotate_batch(b)["token"].flatten()) for b in batches(notes, 1000))

    tokens = light_run()
    light_rate, light_rates = median_rate(tokens, light_run, args.runs)

    spark = sparkner.start(master=args.master)
    with tempfile.TemporaryDirectory() as tmp:
        parquet = os.path.join(tmp, "notes.parquet")
        write_spark_table(spark, notes, parquet)
        model = Pipeline(stages=stages).fit(spark.read.parquet(parquet))

        def spark_run() -> None:
            frame = model.transform(spark.read.parquet(parquet))
            write_noop(frame.select("id", "document", "sentence", "token"))

        spark_rate, spark_rates = median_rate(tokens, spark_run, args.runs)
    spark.stop()

    print(f"notes: {len(notes):,}  tokens: {tokens:,}  runs: {args.runs} (after 1 warm-up)")
    print(machine())
    print(f"{'measure':<34}{'median tokens/s':>18}{'goal':>12}")
    print(f"{'LightPipeline, one process':<34}{light_rate:>18,.0f}{300_000:>12,}")
    print(f"{'Spark ' + args.master + ', Parquet -> noop':<34}{spark_rate:>18,.0f}{150_000:>12,}")
    print(
        json.dumps(
            {
                "bench": "text_stages",
                "notes": len(notes),
                "tokens": tokens,
                "light_tokens_per_s": round(light_rate),
                "light_runs": [round(r) for r in light_rates],
                "spark_master": args.master,
                "spark_tokens_per_s": round(spark_rate),
                "spark_runs": [round(r) for r in spark_rates],
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
