"""Cost of the word embeddings stage, over the MTSamples notes.

Prints (medians of several timed runs, after one warm-up run that is not counted):
- token lookups per second of WordEmbeddingsModel's batch function in one process
  (the LightPipeline path), on already tokenized notes;
- Spark local[2] tokens/s of the text stages with and without the embeddings stage
  (notes read from Parquet, all annotation columns written to the ``noop`` format);
- the resident memory of one Python worker after it has looked tokens up in the vectors.

    python bench/embeddings.py [--runs 5] [--data ../shared/data] [--store FOLDER]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import procfs
from bench_support import DATA, batches, load_notes, median_rate, write_noop, write_spark_table


def worker_memory(store, tokens: list[str]):
    """A task that loads the shipped vectors as the stage does, looks tokens up, and reports
    VmRSS / VmHWM / RssFile / RssAnon of its Python worker, in kB."""
    from pyspark import cloudpickle

    # The task runs in a Python worker, which has no bench/ on sys.path: ship procfs's code
    # with the task (pickled by value) instead of a reference to the module.
    cloudpickle.register_pickle_by_value(procfs)

    def run(_: object) -> list[dict[str, int]]:
        from sparkner.embeddings.store import open_store

        vectors = open_store(store.resolve())
        vectors.vectors_for(vectors.lookup(tokens, case_sensitive=False))
        values = procfs.status_kb("self", ("VmRSS", "VmHWM", "RssFile", "RssAnon"))
        values["pid"] = os.getpid()
        return [values]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--store", help="a store folder instead of the bundled vectors")
    args = parser.parse_args()

    from pyspark.ml import Pipeline, PipelineModel

    import sparkner
    from sparkner import (
        DocumentAssembler,
        LightPipeline,
        SentenceDetector,
        Tokenizer,
        WordEmbeddingsModel,
    )
    from sparkner.embeddings.store import open_store

    embeddings = (
        WordEmbeddingsModel().attach_files(args.store)
        if args.store
        else WordEmbeddingsModel.pretrained()
    )
    notes = load_notes(args.data)
    text_stages = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    annotated = [LightPipeline(text_stages).annotate_batch(b) for b in batches(notes, 1000)]
    tokens = sum(len(b["token"].flatten()) for b in annotated)
    embed = embeddings.batch_function()

    def lookups() -> None:
        for batch in annotated:
            embed(batch["sentence"], batch["token"])

    lookup_rate, lookup_rates = median_rate(tokens, lookups, args.runs)

    spark = sparkner.start(master="local[2]")
    with tempfile.TemporaryDirectory() as tmp:
        parquet = os.path.join(tmp, "notes.parquet")
        write_spark_table(spark, notes, parquet)
        text_model = Pipeline(stages=text_stages).fit(spark.read.parquet(parquet))
        full_model = PipelineModel(stages=[*text_model.stages, embeddings])

        def run(model: PipelineModel) -> None:
            write_noop(model.transform(spark.read.parquet(parquet)).drop("text"))

        without, without_runs = median_rate(tokens, lambda: run(text_model), args.runs)
        with_stage, with_runs = median_rate(tokens, lambda: run(full_model), args.runs)
        # Every word of the vocabulary once, so all vector pages are touched.
        location = embeddings.spark_batch_function(spark).keywords["store"].location
        words = open_store(embeddings.files_folder()).words
        task = worker_memory(location, words)
        memory = spark.sparkContext.parallelize(range(2), 2).mapPartitions(task).collect()
    spark.stop()

    info = embeddings.store_info()
    print(f"vectors: {info['count']:,} x {info['dimension']} {info['dtype']}  tokens: {tokens:,}")
    print(f"{'measure':<52}{'median':>14}{'goal':>14}")
    print(f"{'lookups/s, batch function, one process':<52}{lookup_rate:>14,.0f}{1_000_000:>14,}")
    print(f"{'Spark local[2] tokens/s, text stages':<52}{without:>14,.0f}")
    goal = f">= {without / 2:,.0f}"
    label = "Spark local[2] tokens/s, text stages + embeddings"
    print(f"{label:<52}{with_stage:>14,.0f}{goal:>14}")
    for m in memory:
        print(
            f"Python worker {m['pid']}: RSS {m['VmRSS'] / 1024:.0f} MB (peak "
            f"{m['VmHWM'] / 1024:.0f} MB; file-backed {m.get('RssFile', 0) / 1024:.0f} MB, "
            f"anonymous {m.get('RssAnon', 0) / 1024:.0f} MB)"
        )
    print(
        json.dumps(
            {
                "bench": "embeddings",
                "tokens": tokens,
                "lookups_per_s": round(lookup_rate),
                "lookup_runs": [round(r) for r in lookup_rates],
                "spark_text_tokens_per_s": round(without),
                "spark_text_runs": [round(r) for r in without_runs],
                "spark_with_embeddings_tokens_per_s": round(with_stage),
                "spark_with_embeddings_runs": [round(r) for r in with_runs],
                "worker_memory_kb": memory,
                "runs": args.runs,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
