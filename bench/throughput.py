"""Throughput of the full ner_clinical pipeline (text -> entity chunks), on one machine.

One run measures, on the MTSamples transcriptions (repeated to reach the sizes asked for):

- the ceiling: the tagger alone (``Tagger.tag``, as ``NerDLModel``'s batch function calls
  it) on sentences that were tokenized and embedded beforehand, TensorFlow bound to one thread
  as in a Spark task: tokens/s per core; also the whole batch function (``tag_tokens``);
- the LightPipeline of ``PretrainedPipeline("ner_clinical_pipeline")``, one process:
  ``annotate(list of notes)`` tokens/s, and the latency of ``annotate(note)`` for a note of
  about 100 tokens (median ms over many calls);
- Spark ``local[1]`` and ``local[2]``: the ``sparkner annotate`` job (``apps.annotate.annotate``)
  from a Parquet note table to a Parquet entity table, tokens/s as its summary reports them
  (tokens / seconds of the write), each master in a fresh process (a new JVM), after one
  warm-up job on a small table in the same process that is not counted;
- the Spark ML path beside the job on ``local[2]`` (same process, same table of
  ``--compare-notes`` notes, spread as the job spreads them): ``PretrainedPipeline(model).
  transform(notes)`` written to Parquet with the chunks selected, with every column, and with
  every column but the ``embeddings`` column (200 floats per token); and the chunks through
  the same pipeline's ``PipelineModel.transform``, stage by stage;
- cost growth on ``local[2]`` over the note counts of ``--notes-sizes``;
- peak resident memory of the Spark driver (Python), its JVM and its Python workers.

Speeds are medians of ``--runs`` timed runs, after warm-up runs that are not counted.

    python bench/throughput.py [--runs 3] [--notes-sizes 500,5000,20000] [--data ../shared/data]
    python bench/throughput.py --quick      # a smoke run: tiny sizes, one run

On 2 cores, ``--notes-sizes 500,5000,10000`` took 18 minutes (figures in docs/benchmarks.md);
``--quick`` takes about 1.5 minutes on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench_support import (
    DATA,
    GOAL_LATENCY_MS,
    Timings,
    annotate_timed,
    batches,
    fmt_runs,
    latency,
    latency_note,
    load_notes,
    log,
    machine,
    parse_or_serve_role,
    repeat,
    run_role,
    timed,
    verdict,
    write_table,
)
from procfs import MemorySampler

# The figures of the performance issue (Spark NLP's clinical NER on a 2-core machine).
REFERENCE_SPARK_TOKENS_PER_S = 1_900
REFERENCE_LIGHT_TOKENS_PER_S = 500
# The goals.
GOAL_SPARK_TOKENS_PER_S = 50_000
GOAL_LIGHT_TOKENS_PER_S = 25_000
GOAL_SHARE_OF_CEILING = 0.50  # local[2] against twice the one-core ceiling
GOAL_SCALING = 1.8  # local[2] / local[1]
GOAL_GROWTH = 0.85  # tokens/s at the largest table / at the smallest
GOAL_ML_PATH_SHARE = 0.90  # transform(df).select(id, chunks) against the annotate job
# Notes per call of the tagger for the ceiling: about 3 times the pipeline's calls
# (sparkner.runtime.udf.TEXT_BYTES_PER_CALL), where the tagger runs fastest (fuller batches of
# sentences of one length), so that the ceiling is the tagger at its best.
CEILING_NOTES_PER_CALL = 256


def rates(tokens: int, timings: Timings) -> dict[str, Any]:
    """Median tokens/s, tokens/s of each run, cores busy and tokens per CPU second."""
    cpu = sum(timings.cpu)
    return {
        "tokens_per_s": timings.median_rate(tokens),
        "runs": timings.rates(tokens),
        "cores": cpu / sum(timings.seconds),
        "tokens_per_cpu_s": tokens * len(timings.seconds) / cpu,
    }


# -- roles: each runs in its own process -------------------------------------------------------
def role_ceiling(spec: dict[str, Any]) -> dict[str, Any]:
    """The tagger alone, one TensorFlow thread, on embedded sentences prepared beforehand."""
    import numpy as np

    from sparkner import LightPipeline
    from sparkner.annotators.ner_dl import NerDLModel, load_tagger, tag_tokens
    from sparkner.core.annotation import AnnotationBatch
    from sparkner.ner.data import lexicon_codes
    from sparkner.ner.tagger import configure_threads

    configure_threads(1)  # before TensorFlow's first op, as in a Spark task with one core
    stages = _pipeline(spec["model"]).model.stages
    at = next(i for i, stage in enumerate(stages) if isinstance(stage, NerDLModel))
    # Everything the tagger reads (the embeddings, and the term-list matches if it takes them).
    embed, ner = LightPipeline(stages[:at]), stages[at]
    lexicon_column = ner.getInputCols()[3] if len(ner.getInputCols()) > 3 else None
    keywords = dict(ner.batch_function().keywords)
    keywords["tagger"] = ner.model_files(ner.local_files(), partial(load_tagger, threads=1))
    tagger = keywords["tagger"].load()
    batch_function = partial(tag_tokens, **keywords)

    notes = repeat(load_notes(Path(spec["data"])), spec["notes"])
    log(f"ceiling: tokenizing and embedding {len(notes):,} notes (not timed)")
    outputs = [embed.annotate_batch(chunk) for chunk in batches(notes, CEILING_NOTES_PER_CALL)]
    embedded = [(out["embeddings"], out.get(lexicon_column)) for out in outputs]
    dim = tagger.config.word_dim
    inputs = []
    for column, matches in embedded:
        batch = AnnotationBatch(column)
        values = batch.annotations.field("embeddings").flatten().to_numpy(zero_copy_only=False)
        vectors = values.reshape(len(batch), dim).astype(np.float32, copy=False)
        codes = None
        if matches is not None:
            codes = lexicon_codes(column, matches, tagger.config.lexicon_classes)
        inputs.append((vectors, batch.annotations.field("result"), batch.sentence_offsets(), codes))
    tokens = sum(len(v) for v, *_ in inputs)
    sentences = sum(len(o) - 1 for _, _, o, _ in inputs)

    def predict() -> None:
        # What tag_tokens asks of the tagger: tags and scores for vectors, words, sentences.
        for vectors, words, offsets, codes in inputs:
            tagger.tag(vectors, words, offsets, lexicon=codes)

    def whole_function() -> None:
        for column, matches in embedded:
            batch_function(None, None, column, matches)

    log(f"ceiling: {tokens:,} tokens in {sentences:,} sentences; warm-up, then {spec['runs']} runs")
    return {
        "notes": len(notes),
        "tokens": tokens,
        "sentences": sentences,
        "tagger": rates(tokens, timed(predict, spec["runs"])),
        "batch_function": rates(tokens, timed(whole_function, spec["runs"])),
    }


def _pipeline(model: str) -> Any:
    """A bundled pretrained pipeline by name, or a saved one (Spark ML reads its metadata;
    not timed)."""
    from sparkner.apps.pretrained import PretrainedPipeline

    if os.path.isdir(model):
        import sparkner

        sparkner.start(master="local[1]")
        return PretrainedPipeline.from_disk(model)
    return PretrainedPipeline(model)


def role_light(spec: dict[str, Any]) -> dict[str, Any]:
    """``PretrainedPipeline(...).light_model.annotate``: throughput and single-note latency."""

    light = _pipeline(spec["model"]).light_model
    corpus = load_notes(Path(spec["data"]))
    notes = repeat(corpus, spec["notes"])

    short_note = latency_note(light, corpus)
    log(f"LightPipeline: {len(notes):,} notes, warm-up, then {spec['runs']} runs")
    rows = light.annotate(notes)  # warm-up: loads TensorFlow and the tagger; not counted
    tokens = sum(len(r["token"]) for r in rows)
    chunks = sum(len(r["ner_chunk"]) for r in rows)
    timings = timed(lambda: light.annotate(notes), spec["runs"], warmup=0)

    return {
        "notes": len(notes),
        "tokens": tokens,
        "entities": chunks,
        **rates(tokens, timings),
        **latency(light, short_note, spec["latency_calls"]),
    }


def role_spark(spec: dict[str, Any]) -> dict[str, Any]:
    """The ``sparkner annotate`` job on ``spec['master']``: one warm-up job, then timed jobs."""
    import sparkner

    master = spec["master"]
    sampler = MemorySampler()
    sampler.start()
    started = time.perf_counter()
    spark = sparkner.start(master=master)
    session_seconds = time.perf_counter() - started

    def job(table: str, output: str) -> dict[str, Any]:
        out = os.path.join(spec["scratch"], output)
        summary, call_seconds, cpu = annotate_timed(
            spark, sampler, input=table, output=out, model=spec["model"]
        )
        return {
            "rows": summary.rows_read,
            "tokens": summary.tokens,
            "entities": summary.entities,
            "seconds": summary.seconds,
            "call_seconds": call_seconds,
            "cpu_seconds": cpu,
        }

    sampler.phase = "warm-up"
    log(f"{master}: warm-up job on {spec['warmup_notes']} notes (not counted)")
    warmup = job(spec["warmup"], "warmup")
    results = []
    for size, table in spec["tables"]:
        sampler.phase = str(size)
        runs = []
        for number in range(spec["runs"]):
            run = job(table, f"entities-{size}")
            runs.append(run)
            rate = run["tokens"] / run["seconds"]
            split = ", ".join(f"{k} {v:.1f}" for k, v in run["cpu_seconds"].items())
            log(
                f"{master}: {size:,} notes, run {number + 1}/{spec['runs']}: "
                f"{run['tokens']:,} tokens in {run['seconds']:.1f} s, {rate:,.0f} tokens/s; "
                f"CPU s: {split}; load {os.getloadavg()[0]:.1f}"
            )
        per_run = [r["tokens"] / r["seconds"] for r in runs]
        cpu_totals = [sum(r["cpu_seconds"].values()) for r in runs]
        results.append(
            {
                "notes": size,
                "tokens": runs[0]["tokens"],
                "entities": runs[0]["entities"],
                "tokens_per_s": statistics.median(per_run),
                "runs": per_run,
                "seconds": [r["seconds"] for r in runs],
                "call_seconds": [r["call_seconds"] for r in runs],
                "cpu_seconds": [r["cpu_seconds"] for r in runs],
                "tokens_per_cpu_s": statistics.median(
                    r["tokens"] / c for r, c in zip(runs, cpu_totals, strict=True)
                ),
                "cores": statistics.median(
                    c / r["call_seconds"] for r, c in zip(runs, cpu_totals, strict=True)
                ),
            }
        )
    if spec.get("ml_path_table"):
        sampler.phase = "ml path"
        tokens = next(r["tokens"] for r in results if r["notes"] == spec["ml_path_notes"])
        job_rate = next(r["tokens_per_s"] for r in results if r["notes"] == spec["ml_path_notes"])
        ml_path = ml_path_rates(spark, spec, tokens)
        ml_path["job_tokens_per_s"] = job_rate
    else:
        ml_path = None
    parallelism = spark.sparkContext.defaultParallelism
    sampler.phase = "end"
    sampler.sample()
    memory = sampler.summary()
    spark.stop()
    sampler.stop()
    return {
        "master": master,
        "default_parallelism": parallelism,
        "session_start_seconds": session_seconds,
        "warmup": warmup,
        "sizes": results,
        "memory": memory,
        "ml_path": ml_path,
    }


# The Spark ML path: what notebook and job users write instead of the CLI. Each way writes
# the annotated table to Parquet, in the same process (the Python workers already warm), from
# the notes spread over as many partitions as the job spreads them (4 per core).
ML_PATH_WAYS = {
    "chunks selected": ("fused", lambda annotated, chunks: annotated.select("id", chunks)),
    "chunks selected, PipelineModel.transform stage by stage": (
        "stages",
        lambda annotated, chunks: annotated.select("id", chunks),
    ),
    "every column": ("fused", lambda annotated, chunks: annotated),
    "every column but embeddings": (
        "fused",
        lambda annotated, chunks: annotated.drop("embeddings"),
    ),
}


def ml_path_rates(spark: Any, spec: dict[str, Any], tokens: int) -> dict[str, Any]:
    """``PretrainedPipeline(model).transform(notes)`` (and the same pipeline's
    ``PipelineModel.transform``, stage by stage) written to Parquet in each of ML_PATH_WAYS:
    tokens/s per way (median of the runs), ``tokens`` counted by the job."""
    from sparkner.apps.annotate import TASKS_PER_CORE, JobColumns
    from sparkner.apps.pretrained import PretrainedPipeline

    model = spec["model"]
    pipeline = (
        PretrainedPipeline.from_disk(model) if os.path.isdir(model) else PretrainedPipeline(model)
    )
    chunks = JobColumns.of(pipeline.model).chunks
    read = spark.read.parquet(spec["ml_path_table"])
    partitions = TASKS_PER_CORE * spark.sparkContext.defaultParallelism
    notes = read.repartition(partitions)
    out = os.path.join(spec["scratch"], "ml-path")

    def measure(way: str, transform: Any, select: Any) -> dict[str, Any]:
        def run() -> None:
            select(transform(notes), chunks).write.mode("overwrite").parquet(out)

        def progress(number: int, seconds: float) -> None:
            log(f"ML path, {way}, run {number}/{spec['runs']}: {tokens / seconds:,.0f} tokens/s")

        # No warm-up run: the annotate jobs before have warmed the Python workers up.
        timings = timed(run, spec["runs"], warmup=0, each=progress)
        return {"tokens_per_s": timings.median_rate(tokens), "runs": timings.rates(tokens)}

    ways = {}
    for way, (path, select) in ML_PATH_WAYS.items():
        transform = pipeline.transform if path == "fused" else pipeline.model.transform
        ways[way] = measure(way, transform, select)
    return {
        "notes": spec["ml_path_notes"],
        "partitions": partitions,
        "partitions_as_read": read.rdd.getNumPartitions(),
        "ways": ways,
    }


ROLES = {"ceiling": role_ceiling, "light": role_light, "spark": role_spark}


# -- the report ------------------------------------------------------------------------------
def report(args: argparse.Namespace, results: dict[str, Any], elapsed: float) -> None:
    ceiling, light = results["ceiling"], results["light"]
    one, two = results["local[1]"], results["local[2]"]
    by_size = {s["notes"]: s for s in two["sizes"]}
    compare = args.compare_notes
    two_at = by_size[compare]["tokens_per_s"]
    one_at = one["sizes"][0]["tokens_per_s"]
    smallest, largest = min(by_size), max(by_size)
    growth = by_size[largest]["tokens_per_s"] / by_size[smallest]["tokens_per_s"]
    ceiling_rate = ceiling["tagger"]["tokens_per_s"]
    share = two_at / (2 * ceiling_rate)
    # The same comparison per CPU second, which a busy machine disturbs much less: local[2]
    # on two whole cores against two cores of the ceiling.
    cpu_share = by_size[compare]["tokens_per_cpu_s"] / ceiling["tagger"]["tokens_per_cpu_s"]
    scaling = two_at / one_at
    cores = os.cpu_count() or 1
    # Before the first measure, the load is other work's (later, it includes this benchmark's).
    busy = results["load_average_start"] > 0.5 * cores

    print(
        f"{machine()}; load average before the measures: {results['load_average_start']:.2f}; "
        f"runs: {args.runs} per measure, medians; warm-up runs (and one warm-up job per Spark "
        "process) not counted"
    )
    if busy:
        print(
            f"WARNING: the machine was busy (load average {results['load_average_start']:.1f} "
            f"on {cores} cores before the first measure): wall-clock figures are low; compare "
            "the tokens per CPU-s column"
        )
    one_size = one["sizes"][0]
    rows = [
        ("ceiling: Tagger.tag, 1 TF thread", ceiling, ceiling["tagger"], ""),
        (
            "NerDLModel batch function (tag_tokens), 1 TF thread",
            ceiling,
            ceiling["batch_function"],
            "",
        ),
        (
            "LightPipeline.annotate(notes), one process",
            light,
            light,
            f">= {GOAL_LIGHT_TOKENS_PER_S:,}",
        ),
        ("Spark local[1], annotate job, Parquet -> Parquet", one_size, one_size, ""),
    ]
    for size in two["sizes"]:
        goal = f">= {GOAL_SPARK_TOKENS_PER_S:,}" if size["notes"] == compare else ""
        rows.append(("Spark local[2], annotate job, Parquet -> Parquet", size, size, goal))
    print()
    print(
        "| measure | notes | tokens | median tokens/s | runs | cores busy | tokens per CPU-s "
        "| goal |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for label, data, m, goal in rows:
        print(
            f"| {label} | {data['notes']:,} | {data['tokens']:,} | {m['tokens_per_s']:,.0f} | "
            f"{fmt_runs(m['runs'])} | {m['cores']:.2f} | {m['tokens_per_cpu_s']:,.0f} | {goal} |"
        )
    print()
    print(
        f"LightPipeline.annotate(one note of {light['latency_note_tokens']} tokens): median "
        f"{light['latency_ms_median']:.1f} ms, p90 {light['latency_ms_p90']:.1f} ms over "
        f"{light['latency_calls']} calls (goal < {GOAL_LATENCY_MS:.0f} ms)"
    )
    print(
        "cores busy: CPU time / wall time of the measure's processes (for Spark: driver, JVM "
        "and Python workers, over the whole annotate() call); the LightPipeline runs "
        "TensorFlow with one thread per op and two ops at once, the ceiling with one thread"
    )
    print()
    print("| ratio | value | goal | |")
    print("| --- | ---: | ---: | --- |")
    ratio_rows = [
        (
            f"local[2] / local[1] ({compare:,} notes)",
            f"{scaling:.2f}x",
            f">= {GOAL_SCALING}x",
            scaling >= GOAL_SCALING,
        ),
        (
            f"local[2] / (2 x ceiling) ({compare:,} notes)",
            f"{share:.0%}",
            f">= {GOAL_SHARE_OF_CEILING:.0%}",
            share >= GOAL_SHARE_OF_CEILING,
        ),
        (
            "the same per CPU-s: local[2] / ceiling, tokens per CPU-s",
            f"{cpu_share:.0%}",
            f">= {GOAL_SHARE_OF_CEILING:.0%}",
            cpu_share >= GOAL_SHARE_OF_CEILING,
        ),
        (
            f"growth: local[2] at {largest:,} / at {smallest:,} notes",
            f"{growth:.2f}",
            f">= {GOAL_GROWTH}",
            growth >= GOAL_GROWTH,
        ),
        (
            f"local[2] tokens/s ({compare:,} notes)",
            f"{two_at:,.0f}",
            f">= {GOAL_SPARK_TOKENS_PER_S:,}",
            two_at >= GOAL_SPARK_TOKENS_PER_S,
        ),
        (
            "LightPipeline tokens/s",
            f"{light['tokens_per_s']:,.0f}",
            f">= {GOAL_LIGHT_TOKENS_PER_S:,}",
            light["tokens_per_s"] >= GOAL_LIGHT_TOKENS_PER_S,
        ),
        (
            f"LightPipeline latency, {light['latency_note_tokens']}-token note",
            f"{light['latency_ms_median']:.1f} ms",
            f"< {GOAL_LATENCY_MS:.0f} ms",
            light["latency_ms_median"] < GOAL_LATENCY_MS,
        ),
    ]
    for label, value, goal, ok in ratio_rows:
        print(f"| {label} | {value} | {goal} | {verdict(ok)} |")
    print()
    print(
        f"reference (the issue, Spark NLP clinical NER, 2 cores): transform "
        f"{REFERENCE_SPARK_TOKENS_PER_S:,} tokens/s (local[2] here: "
        f"{two_at / REFERENCE_SPARK_TOKENS_PER_S:,.1f}x), LightPipeline "
        f"{REFERENCE_LIGHT_TOKENS_PER_S:,} tokens/s (here: "
        f"{light['tokens_per_s'] / REFERENCE_LIGHT_TOKENS_PER_S:,.1f}x)"
    )
    print()
    print("peak resident memory (VmHWM; a worker's counts pages shared with the daemon):")
    for spark in (one, two):
        mem = spark["memory"]
        mb = {k: v / 1024 for k, v in mem.items() if k.endswith("_kb") or k.endswith("_kb_max")}
        workers_together = max(
            p.get("all_python_workers_rss_kb", 0) for p in mem["per_phase"].values()
        )
        print(
            f"  {spark['master']}: driver (Python) {mb['driver_hwm_kb']:,.0f} MB, JVM "
            f"{mb['jvm_hwm_kb']:,.0f} MB, one Python worker {mb['worker_hwm_kb_max']:,.0f} MB "
            f"(daemon {mb['daemon_hwm_kb']:,.0f} MB; {mem['workers_seen']} workers seen, "
            f"{mem['workers_with_tensorflow']} with TensorFlow loaded; all Python workers "
            f"together at most {workers_together / 1024:,.0f} MB RSS)"
        )
        phases = [(k, v) for k, v in mem["per_phase"].items() if k not in ("start", "end")]
        print(
            "    per phase (notes): "
            + "; ".join(
                f"{k}: worker {v['one_worker_rss_kb'] / 1024:,.0f} MB, "
                f"{v['python_workers']} workers, {v['workers_with_tensorflow']} with TF, "
                f"driver {v['driver_rss_kb'] / 1024:,.0f} MB, JVM {v['jvm_rss_kb'] / 1024:,.0f} MB"
                for k, v in phases
            )
        )
    ml_path = two.get("ml_path")
    if ml_path:
        job_rate = ml_path["job_tokens_per_s"]
        print(
            f"the Spark ML path on local[2], {ml_path['notes']:,} notes in "
            f"{ml_path['partitions']} partitions ({ml_path['partitions_as_read']} as read), "
            f"written to Parquet (the annotate job: {job_rate:,.0f} tokens/s):"
        )
        print("| way | median tokens/s | runs | share of the job | goal |")
        print("| --- | ---: | --- | ---: | --- |")
        for way, figures in ml_path["ways"].items():
            share = figures["tokens_per_s"] / job_rate
            goal = (
                f">= {GOAL_ML_PATH_SHARE:.0%}: {verdict(share >= GOAL_ML_PATH_SHARE)}"
                if (way == "chunks selected")
                else ""
            )
            print(
                f"| {way} | {figures['tokens_per_s']:,.0f} | {fmt_runs(figures['runs'])} | "
                f"{share:.0%} | {goal} |"
            )
        print()
    print(f"elapsed: {elapsed / 60:.1f} min")
    print(
        json.dumps(
            {
                "bench": "throughput",
                "runs": args.runs,
                "notes_sizes": sorted(by_size),
                "compare_notes": compare,
                "ceiling_tokens_per_s": round(ceiling_rate),
                "batch_function_tokens_per_s": round(ceiling["batch_function"]["tokens_per_s"]),
                "light_tokens_per_s": round(light["tokens_per_s"]),
                "light_latency_ms": round(light["latency_ms_median"], 2),
                "local1_tokens_per_s": round(one_at),
                "local2_tokens_per_s": {
                    str(k): round(v["tokens_per_s"]) for k, v in by_size.items()
                },
                "local2_over_local1": round(scaling, 3),
                "local2_share_of_2x_ceiling": round(share, 3),
                "local2_share_of_ceiling_per_cpu_s": round(cpu_share, 3),
                "machine_busy": busy,
                "growth": round(growth, 3),
                "elapsed_s": round(elapsed),
                "results": results,
            }
        )
    )


def main() -> int | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measure (median)")
    parser.add_argument(
        "--notes-sizes",
        default="500,5000,20000",
        help="note counts of the local[2] tables, comma-separated (cost growth)",
    )
    parser.add_argument(
        "--compare-notes",
        type=int,
        help="note count of the local[1] table and of the local[2] figure compared with it, "
        "the ceiling and the goals (default: the middle of --notes-sizes)",
    )
    parser.add_argument(
        "--ceiling-notes", type=int, default=1000, help="notes for the ceiling measure"
    )
    parser.add_argument(
        "--light-notes", type=int, default=1000, help="notes for the LightPipeline measure"
    )
    parser.add_argument("--latency-calls", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run: a smoke run")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--model",
        default="ner_clinical_pipeline",
        help="the pipeline of the LightPipeline and annotate-job measures: a bundled pipeline "
        "or a saved pipeline folder (e.g. one stage less, to measure a stage's cost)",
    )
    args = parse_or_serve_role(parser, ROLES)
    if args is None:  # a role, run in its own process
        return None

    if args.quick:
        args.notes_sizes, args.runs = "50,100", 1
        args.ceiling_notes = args.light_notes = 50
        args.latency_calls = 20
    sizes = sorted({int(s) for s in args.notes_sizes.split(",") if s.strip()})
    if args.compare_notes is None:
        args.compare_notes = sizes[len(sizes) // 2]
    elif args.compare_notes not in sizes:
        sizes = sorted({*sizes, args.compare_notes})
    warmup_notes = min(100, sizes[0])

    begun = time.perf_counter()
    results: dict[str, Any] = {"load_average_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="sparkner-throughput-") as scratch:
        notes = load_notes(args.data)
        tables = {}
        for size in sorted({warmup_notes, *sizes}):
            tables[size] = os.path.join(scratch, f"notes-{size}.parquet")
            write_table(tables[size], repeat(notes, size))
        log(f"note tables written: {', '.join(f'{s:,}' for s in tables)} notes")
        base = {"data": str(args.data), "runs": args.runs, "scratch": scratch, "model": args.model}

        def spec(**extra: Any) -> dict[str, Any]:
            return {**base, "load_average_before": os.getloadavg()[0], **extra}

        results["ceiling"] = run_role("ceiling", spec(notes=args.ceiling_notes), scratch, __file__)
        results["light"] = run_role(
            "light",
            spec(notes=args.light_notes, latency_calls=args.latency_calls),
            scratch,
            __file__,
        )
        for master, masters_sizes in (("local[1]", [args.compare_notes]), ("local[2]", sizes)):
            results[master] = run_role(
                "spark",
                spec(
                    master=master,
                    warmup=tables[warmup_notes],
                    warmup_notes=warmup_notes,
                    tables=[(s, tables[s]) for s in masters_sizes],
                    # The ML path beside the job, on local[2] at the compared size.
                    ml_path_table=tables[args.compare_notes] if master == "local[2]" else None,
                    ml_path_notes=args.compare_notes,
                ),
                scratch,
                __file__,
            )
    results["load_average_end"] = os.getloadavg()[0]
    report(args, results, time.perf_counter() - begun)
    return None


if __name__ == "__main__":
    sys.exit(main())
