"""spaCy's CPU NER and sparkner side by side, in one run: strict entity F1 and words/s.

spaCy is an optional extra of this bench only (``pip install -e ".[bench]"``); sparkner never
imports it. No pretrained spaCy model can be downloaded here, so spaCy's NER is trained from
scratch on the same training split as sparkner's tagger, with the same dev split for model
selection, and both are scored on the same test tokens with sparkner's strict metric
(``sparkner.evaluation.evaluate_tags``: exact span and type, micro P / R / F1).

- NCBI-disease: train ``train.tsv``, dev ``dev.tsv``, test ``test.tsv``. sparkner trains
  ``conf/ner_ncbi_disease.yaml`` here (about 4 minutes) unless ``--sparkner-ncbi-model`` names
  a saved NerDLModel.
- clinical: the train / dev split of ``conf/ner_clinical.yaml`` (MACCROBAT and Chia, plus the
  MTSamples section headers in train), exactly what the bundled ``ner_clinical`` tagger was
  trained on; the test figure is MACCROBAT's test split (case reports) only. sparkner is the
  bundled ``ner_clinical`` tagger.

spaCy: a blank English ``ner`` pipeline, the config of ``spacy init config --lang en
--pipeline ner --optimize efficiency`` (CPU, no vectors), trained with ``spacy train``'s own
loop, its seed fixed, ``training.max_steps`` capped (``--spacy-max-steps``) so a training
takes at most about 10 minutes on 2 cores; the kept model is ``model-best`` (dev F1).

Speed, in words/s (whitespace-separated words of the input texts, the same count for all):
the test split's rows as raw text (tokens joined with spaces: one NCBI sentence, one
MACCROBAT case report per text), repeated to at least ``--words`` words (default 2 million:
an annotate job on a warm session has a fixed cost of some seconds, which 400,000 words
do not amortize);

- spaCy: ``nlp.pipe(texts)`` with its own tokenizer, one process held to one thread
  (``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` = 1);
- sparkner LightPipeline: the full pipeline (text -> chunks) of the tagger, one process;
- sparkner on Spark ``local[2]``: the ``sparkner annotate`` job (``apps.annotate.annotate``)
  from a Parquet table of the texts to a Parquet entity table, wall time of the whole call.

Each measure runs in a fresh process, with one warm-up pass over the distinct test texts (for
Spark: one warm-up job) that is not counted, then ``--runs`` timed runs (medians). CPU seconds
per run are printed too (for Spark: driver, JVM and Python workers, from /proc), because the
machine may be shared.

    python bench/compare_spacy.py [--data ncbi_disease|clinical|both] [--runs 3]
                                  [--data-dir ../shared/data] [--sparkner-ncbi-model DIR]
    python bench/compare_spacy.py --quick      # a smoke run: tiny training budgets, one run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_support
from bench_support import (
    DATA,
    REPO,
    annotate_timed,
    fmt_runs,
    log,
    machine,
    parse_or_serve_role,
    read_json,
    timed,
    verdict,
    write_json,
    write_table,
)
from procfs import MemorySampler

DATASETS = ("ncbi_disease", "clinical")
LABELS = {"ncbi_disease": "NCBI-disease test", "clinical": "MACCROBAT test (clinical)"}
RECIPES = {"ncbi_disease": "ner_ncbi_disease", "clinical": "ner_clinical"}
TEST_CORPUS = {"ncbi_disease": None, "clinical": "maccrobat"}
# The goal: sparkner on Spark local[2] at least twice spaCy's one process, and more
# accurate (strict F1).
GOAL_RATIO = 2.0
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
Rows = list[tuple[list[str], list[str]]]


def summary_of(seconds: list[float], cpu: list[float], words: int) -> dict[str, Any]:
    """Median words/s, words/s of each run, CPU seconds of each run and words per CPU-s."""
    per_run = [words / s for s in seconds]
    return {
        "words_per_s": statistics.median(per_run),
        "runs_words_per_s": per_run,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "words_per_cpu_s": statistics.median(words / c for c in cpu) if all(cpu) else None,
    }


# -- roles: each runs in its own process -------------------------------------------------------
def role_prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """The splits as (words, tags) rows for spaCy, and sparkner's tagger scored on the test
    split; for NCBI-disease the tagger is trained here and saved as a full pipeline."""
    from pyspark.ml import PipelineModel
    from pyspark.sql import functions as F

    import sparkner
    from sparkner import (
        DocumentAssembler,
        NerConverter,
        NerDLModel,
        SentenceDetector,
        Tokenizer,
        WordEmbeddingsModel,
    )
    from sparkner.training.ner import evaluate_split, load_recipe, read_split, train_recipe

    data, folder, data_dir = spec["data"], Path(spec["folder"]), spec["data_dir"]
    recipe = load_recipe(REPO / "conf" / f"{RECIPES[data]}.yaml")
    recipe.settings["verbose"] = False
    if spec["quick"]:
        recipe.settings["maxEpochs"] = 1
    spark = sparkner.start(master="local[2]")
    counts = {}
    for split in ("train", "dev", "test"):
        corpus = TEST_CORPUS[data] if split == "test" else None
        frame = read_split(spark, recipe, data_dir, split, corpus)
        rows = [
            (list(r.words or []), list(r.tags or []))
            for r in frame.select(
                F.col("token.result").alias("words"), F.col("label.result").alias("tags")
            ).toLocalIterator()
        ]
        write_json(folder / f"{split}.json", rows)
        counts[split] = {"rows": len(rows), "tokens": sum(len(w) for w, _ in rows)}
        log(f"{data} {split}: {len(rows):,} rows, {counts[split]['tokens']:,} tokens")

    result: dict[str, Any] = {"counts": counts, "training_seconds": None}
    if data == "clinical":
        model = NerDLModel.pretrained("ner_clinical")
        result["model"] = "bundled ner_clinical"
        result["pipeline"] = "ner_clinical_pipeline"
    else:
        if spec["sparkner_model"]:
            model = NerDLModel.load(spec["sparkner_model"])
            result["model"] = spec["sparkner_model"]
        else:
            log(f"sparkner: training {recipe.name} (local[2])")
            model, seconds = train_recipe(spark, recipe, data_dir)
            result["model"] = f"trained here, conf/{recipe.name}.yaml"
            result["training_seconds"] = seconds
            log(f"sparkner: trained in {seconds / 60:.1f} min")
        # The same pipeline as the bundled ones (sparkner.apps.pretrained.
        # pretrained_pipeline_model), with this tagger and the vectors it was trained with.
        tagger = model.setIncludeConfidence(True)
        vectors = WordEmbeddingsModel.pretrained(tagger.getStorageRef())
        stages = [
            DocumentAssembler(),
            SentenceDetector(),
            Tokenizer(),
            vectors,
            tagger,
            NerConverter(),
        ]
        pipeline = str(folder / "sparkner_pipeline")
        PipelineModel(stages=stages).write().overwrite().save(pipeline)
        result["pipeline"] = pipeline
        # Loading a saved pipeline needs a Spark session; the LightPipeline role builds the
        # pipeline from the tagger's own folder instead (a trained tagger's folder is removed
        # when this process exits).
        result["tagger_folder"] = str(folder / "sparkner_tagger")
        shutil.copytree(tagger.files_folder(), result["tagger_folder"])
    record = model.training_record()
    # A refit tagger (recipe `refit: true`) keeps its model-selection run under "selection".
    selection = record.get("selection", record)
    result["dev_f1_kept"] = selection.get("test", {}).get("f1")
    result["epochs"] = len(selection.get("epochs", []))
    result["refit_epochs"] = record.get("refit_epochs")
    result["refit"] = recipe.refit
    evaluation = evaluate_split(spark, model, recipe, data_dir, "test", TEST_CORPUS[data])
    result["strict"] = evaluation.strict.micro.as_dict()
    result["relaxed_f1"] = round(evaluation.relaxed.micro.f1, 4)
    spark.stop()
    return result


def iob2(tags: list[str]) -> list[str]:
    """IOB2 tags (``B-X`` opens every entity), as spaCy's ``Doc(ents=...)`` wants them."""
    from sparkner.ner.tags import tag_spans

    out = ["O"] * len(tags)
    for first, last, entity in tag_spans(tags):
        out[first] = f"B-{entity}"
        for i in range(first + 1, last + 1):
            out[i] = f"I-{entity}"
    return out


def role_spacy_train(spec: dict[str, Any]) -> dict[str, Any]:
    """Train spaCy's NER from scratch (``spacy train``), then tag the gold test tokens.

    With ``refit`` (as the sparkner recipe does), the step of the best dev F1 is kept and
    spaCy is trained again on train + dev for as many passes over the data (steps scaled by
    the words), the last model kept; otherwise ``model-best`` of the one training is kept.
    """
    import spacy
    from spacy.cli.init_config import init_config
    from spacy.cli.train import train
    from spacy.tokens import Doc, DocBin
    from spacy.training.loggers import console_logger

    from sparkner.evaluation import evaluate_tags

    folder = Path(spec["folder"])
    nlp = spacy.blank("en")

    def docs(rows: Rows) -> DocBin:
        bin_ = DocBin()
        for words, tags in rows:
            if words:
                bin_.add(Doc(nlp.vocab, words=words, spaces=[True] * len(words), ents=iob2(tags)))
        return bin_

    splits = {split: read_json(folder / f"{split}.json") for split in ("train", "dev")}
    for split, rows in splits.items():
        docs(rows).to_disk(folder / f"{split}.spacy")
    docs(splits["train"] + splits["dev"]).to_disk(folder / "train_dev.spacy")
    words = {split: sum(len(w) for w, _ in rows) for split, rows in splits.items()}

    last = {"step": 0, "epoch": 0}
    evaluations: list[tuple[float, int, int]] = []  # (dev score, step, epoch)

    @spacy.registry.callbacks("compare_spacy.last_step.v1")
    def last_step() -> Any:
        def record(nlp: Any, args: dict[str, int]) -> None:
            last.update(args)

        return record

    @spacy.registry.loggers("compare_spacy.console.v1")
    def console() -> Any:
        setup_console = console_logger(progress_bar=False)

        def setup(nlp: Any, stdout: Any = sys.stdout, stderr: Any = sys.stderr) -> Any:
            log_step, finalize = setup_console(nlp, stdout, stderr)

            def step(info: dict[str, Any] | None) -> None:
                if info is not None and info.get("score") is not None:
                    evaluations.append((info["score"], info["step"], info["epoch"]))
                log_step(info)

            return step, finalize

        return setup

    # `spacy init config --lang en --pipeline ner --optimize efficiency` (CPU, no vectors).
    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False)
    config["paths"]["dev"] = str(folder / "dev.spacy")
    config["system"]["seed"] = spec["seed"]
    config["training"]["eval_frequency"] = spec["eval_frequency"]
    config["training"]["before_update"] = {"@callbacks": "compare_spacy.last_step.v1"}
    config["training"]["logger"] = {"@loggers": "compare_spacy.console.v1"}

    def run(name: str, train_file: str, max_steps: int, patience: int) -> float:
        config["paths"]["train"] = str(folder / train_file)
        config["training"]["max_steps"] = max_steps
        config["training"]["patience"] = patience
        config_path = folder / f"spacy_{name}.cfg"
        config.to_disk(config_path)
        log(
            f"spaCy {name}: training on {train_file}, max_steps {max_steps}, patience "
            f"{patience}, eval every {spec['eval_frequency']} steps, seed {spec['seed']}"
        )
        evaluations.clear()
        started = time.perf_counter()
        train(config_path, folder / f"spacy_{name}", use_gpu=-1)
        seconds = time.perf_counter() - started
        log(f"spaCy {name}: trained in {seconds / 60:.1f} min, last step {last['step']}")
        return seconds

    result: dict[str, Any] = {"spacy_version": spacy.__version__, "refit": spec["refit"]}
    seconds = run("selection", "train.spacy", spec["max_steps"], spec["patience"])
    best_score = max(score for score, _, _ in evaluations)
    # spaCy keeps the latest of equal best scores as model-best.
    best_step, best_epoch = max((s, e) for score, s, e in evaluations if score == best_score)
    result.update(
        selection_seconds=seconds,
        selection_steps=last["step"],
        selection_epochs=last["epoch"],
        best_step=best_step,
        best_epoch=best_epoch,
        dev_f1_kept=round(best_score, 4),
    )
    model = folder / "spacy_selection" / "model-best"
    if spec["refit"]:
        steps = max(1, round(best_step * (words["train"] + words["dev"]) / words["train"]))
        refit_seconds = run("refit", "train_dev.spacy", steps, 0)
        result.update(refit_seconds=refit_seconds, refit_steps=last["step"])
        seconds += refit_seconds
        model = folder / "spacy_refit" / "model-last"
    result.update(training_seconds=seconds, model=str(model))

    nlp = spacy.load(model)
    test = read_json(folder / "test.json")
    gold_docs = (Doc(nlp.vocab, words=w, spaces=[True] * len(w)) for w, _ in test)
    predicted = []
    for doc in nlp.pipe(gold_docs, batch_size=256):
        predicted.append([f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O" for t in doc])
    evaluation = evaluate_tags([tags for _, tags in test], predicted)
    result.update(
        strict=evaluation.strict.micro.as_dict(), relaxed_f1=round(evaluation.relaxed.micro.f1, 4)
    )
    return result


def role_spacy_speed(spec: dict[str, Any]) -> dict[str, Any]:
    """``nlp.pipe(texts)`` in this process, one thread (set in the environment at start)."""
    import spacy

    texts = read_json(spec["texts"])
    nlp = spacy.load(spec["model"])

    def run() -> int:
        return sum(len(doc.ents) for doc in nlp.pipe(texts["measured"], batch_size=spec["batch"]))

    list(nlp.pipe(texts["distinct"], batch_size=spec["batch"]))  # warm-up; not counted
    timings = timed(run, spec["runs"], warmup=0)
    threads = {k: os.environ.get(k) for k in ONE_THREAD}
    return {
        **summary_of(timings.seconds, timings.cpu, texts["words"]),
        "entities": timings.result,
        "env": threads,
        "batch_size": spec["batch"],
    }


def role_light(spec: dict[str, Any]) -> dict[str, Any]:
    """The LightPipeline of the full pipeline (text -> chunks) in this process, no Spark."""
    from sparkner import (
        DocumentAssembler,
        LightPipeline,
        NerConverter,
        NerDLModel,
        SentenceDetector,
        Tokenizer,
        WordEmbeddingsModel,
    )
    from sparkner.apps.pretrained import PretrainedPipeline

    texts = read_json(spec["texts"])
    if spec["tagger_folder"]:
        # As sparkner.apps.pretrained.pretrained_pipeline_model assembles a bundled pipeline.
        tagger = NerDLModel().attach_files(spec["tagger_folder"]).setIncludeConfidence(True)
        vectors = WordEmbeddingsModel.pretrained(tagger.getStorageRef())
        light = LightPipeline(
            [DocumentAssembler(), SentenceDetector(), Tokenizer(), vectors, tagger, NerConverter()]
        )
    else:
        light = PretrainedPipeline(spec["pipeline"]).light_model

    def run() -> int:
        return sum(len(row["ner_chunk"]) for row in light.annotate(texts["measured"]))

    light.annotate(texts["distinct"])  # warm-up: TensorFlow, the tagger; not counted
    timings = timed(run, spec["runs"], warmup=0)
    return {**summary_of(timings.seconds, timings.cpu, texts["words"]), "entities": timings.result}


def role_spark(spec: dict[str, Any]) -> dict[str, Any]:
    """The ``sparkner annotate`` job on ``local[2]``: one warm-up job, then timed jobs."""
    import sparkner

    texts = read_json(spec["texts"])
    scratch = spec["scratch"]
    tables = {}
    for name in ("distinct", "measured"):
        tables[name] = os.path.join(scratch, f"texts-{name}.parquet")
        write_table(tables[name], texts[name])
    sampler = MemorySampler()  # for CPU seconds only (not started)
    spark = sparkner.start(master=spec["master"])

    def job(table: str) -> dict[str, Any]:
        output = os.path.join(scratch, "entities")
        summary, seconds, cpu = annotate_timed(
            spark, sampler, input=tables[table], output=output, model=spec["pipeline"]
        )
        return {
            "seconds": seconds,
            "write_seconds": summary.seconds,
            "cpu": cpu,
            "entities": summary.entities,
            "tokens": summary.tokens,
            "rows": summary.rows_read,
        }

    job("distinct")  # warm-up: JVM, Python workers, TensorFlow and the models; not counted
    runs = []
    for number in range(spec["runs"]):
        runs.append(job("measured"))
        log(
            f"{spec['master']}: run {number + 1}/{spec['runs']}: {runs[-1]['seconds']:.1f} s, "
            f"load {os.getloadavg()[0]:.2f}"
        )
    parallelism = spark.sparkContext.defaultParallelism
    spark.stop()
    cpu = [sum(r["cpu"].values()) for r in runs]
    result = summary_of([r["seconds"] for r in runs], cpu, texts["words"])
    result.update(
        master=spec["master"],
        default_parallelism=parallelism,
        entities=runs[-1]["entities"],
        sparkner_tokens=runs[-1]["tokens"],
        rows=runs[-1]["rows"],
        write_seconds=[r["write_seconds"] for r in runs],
        cpu_by_process=[r["cpu"] for r in runs],
    )
    return result


ROLES = {
    "prepare": role_prepare,
    "spacy_train": role_spacy_train,
    "spacy_speed": role_spacy_speed,
    "light": role_light,
    "spark": role_spark,
}


def run_role(
    role: str, spec: dict[str, Any], scratch: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one role of this script in a fresh Python process and return its result."""
    env = {"ANSI_COLORS_DISABLED": "1", **(env or {})}
    return bench_support.run_role(role, spec, scratch, __file__, env)


def speed_texts(rows: Rows, words: int) -> dict[str, Any]:
    """The test rows as texts (tokens joined with spaces), repeated to at least ``words``."""
    distinct = [" ".join(w) for w, _ in rows if w]
    counts = [len(t.split()) for t in distinct]
    measured, total = [], 0
    while total < words:
        for text, count in zip(distinct, counts, strict=True):
            measured.append(text)
            total += count
    return {
        "distinct": distinct,
        "measured": measured,
        "words": total,
        "distinct_words": sum(counts),
    }


# -- the report ------------------------------------------------------------------------------
def minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f} min"


def report(args: argparse.Namespace, results: dict[str, Any], elapsed: float) -> None:
    cores = os.cpu_count() or 1
    print()
    print(
        f"{machine()}; load average at the start {results['load_average_start']:.2f}, before "
        f"each speed measure {', '.join(f'{x:.2f}' for x in results['load_averages_speed'])}; "
        f"{args.runs} timed run(s) per measure, medians; warm-up runs (one pass over the "
        "distinct test texts, or one Spark job on them) not counted"
    )
    if args.quick:
        print("QUICK smoke run: tiny training budgets and few words; not a measurement")
    print()
    print(
        "| data set | system | strict P | R | F1 | words/s (median) | runs (words/s) "
        "| CPU s per run | words per CPU-s | training time |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |")
    ratios = []
    for data in args.datasets:
        r = results[data]
        spacy_train = r["spacy_train"]
        ours = r["prepare"]
        ours_training = ", ".join(
            part
            for part in (
                minutes(ours["training_seconds"]) or ours["model"],
                f"{ours['epochs']} epochs",
                f"refit on train + dev for {ours['refit_epochs']}" if ours["refit_epochs"] else "",
                f"dev F1 {ours['dev_f1_kept']:.4f}" if ours["dev_f1_kept"] is not None else "",
            )
            if part
        )
        spacy_training = (
            f"{minutes(spacy_train['training_seconds'])}, {spacy_train['selection_steps']} "
            f"steps, best at {spacy_train['best_step']}"
        )
        if spacy_train["refit"]:
            spacy_training += f", refit on train + dev for {spacy_train['refit_steps']}"
        spacy_training += f", dev F1 {spacy_train['dev_f1_kept']:.4f}"
        rows = [
            (
                "spaCy en ner (efficiency), nlp.pipe, 1 thread",
                spacy_train["strict"],
                r["spacy_speed"],
                spacy_training,
            ),
            ("sparkner LightPipeline, one process", ours["strict"], r["light"], ours_training),
            ("sparkner Spark local[2], annotate job", ours["strict"], r["spark"], "(same tagger)"),
        ]
        for system, acc, speed, training in rows:
            per_cpu = speed["words_per_cpu_s"]
            print(
                f"| {LABELS[data]} | {system} | {acc['precision']:.4f} | {acc['recall']:.4f} | "
                f"{acc['f1']:.4f} | {speed['words_per_s']:,.0f} | "
                f"{fmt_runs(speed['runs_words_per_s'])} | "
                f"{' / '.join(f'{x:.1f}' for x in speed['cpu_seconds'])} | "
                f"{'' if per_cpu is None else f'{per_cpu:,.0f}'} | {training} |"
            )
        ratio = r["spark"]["words_per_s"] / r["spacy_speed"]["words_per_s"]
        light_ratio = r["light"]["words_per_s"] / r["spacy_speed"]["words_per_s"]
        gain = ours["strict"]["f1"] - spacy_train["strict"]["f1"]
        r["summary"] = {
            "local2_over_spacy": round(ratio, 3),
            "light_over_spacy": round(light_ratio, 3),
            "f1_sparkner_minus_spacy": round(gain, 4),
        }
        ratios.append((data, ratio, light_ratio, gain))
    print()
    for data in args.datasets:
        texts = results[data]["texts"]
        print(
            f"{LABELS[data]}: {texts['words']:,} words per run ({texts['distinct']:,} "
            f"distinct texts of {texts['distinct_words']:,} words, repeated); test tokens "
            f"{results[data]['prepare']['counts']['test']['tokens']:,}; entities found per "
            f"run: spaCy {results[data]['spacy_speed']['entities']:,}, LightPipeline "
            f"{results[data]['light']['entities']:,}, local[2] "
            f"{results[data]['spark']['entities']:,}; local[2] words/s over the table's write "
            f"alone (as bench/throughput.py counts): "
            f"{texts['words'] / statistics.median(results[data]['spark']['write_seconds']):,.0f}"
        )
    print()
    print(
        "| data set | sparkner local[2] / spaCy one process | goal | LightPipeline / spaCy "
        "| strict F1 sparkner - spaCy | goal |"
    )
    print("| --- | ---: | --- | ---: | ---: | --- |")
    for data, ratio, light_ratio, gain in ratios:
        print(
            f"| {LABELS[data]} | {ratio:.2f}x | >= {GOAL_RATIO:.0f}x: "
            f"{verdict(ratio >= GOAL_RATIO)} | {light_ratio:.2f}x | {gain:+.4f} | "
            f"> 0: {verdict(gain > 0)} |"
        )
    print(f"elapsed: {elapsed / 60:.1f} min")
    print(
        json.dumps(
            {
                "bench": "compare_spacy",
                "quick": args.quick,
                "runs": args.runs,
                "cores": cores,
                "spacy_max_steps": args.spacy_max_steps,
                "seed": args.seed,
                "elapsed_s": round(elapsed),
                "figures": {
                    data: {
                        **results[data]["summary"],
                        "spacy_f1": results[data]["spacy_train"]["strict"]["f1"],
                        "sparkner_f1": results[data]["prepare"]["strict"]["f1"],
                        "spacy_words_per_s": round(results[data]["spacy_speed"]["words_per_s"]),
                        "light_words_per_s": round(results[data]["light"]["words_per_s"]),
                        "local2_words_per_s": round(results[data]["spark"]["words_per_s"]),
                        "spacy_training_s": round(
                            results[data]["spacy_train"]["training_seconds"], 1
                        ),
                    }
                    for data in args.datasets
                },
                "results": results,
            }
        )
    )


def main() -> int | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=[*DATASETS, "both"], default="both")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per speed measure")
    parser.add_argument(
        "--words", type=int, default=2_000_000, help="words per timed run (test texts repeated)"
    )
    parser.add_argument(
        "--sparkner-ncbi-model", type=Path, help="a saved NerDLModel for NCBI (else trained)"
    )
    parser.add_argument("--seed", type=int, default=1, help="spaCy's seed (system.seed)")
    parser.add_argument("--spacy-max-steps", type=int, default=3000)
    parser.add_argument("--spacy-patience", type=int, default=1600, help="spaCy's default")
    parser.add_argument("--spacy-eval-frequency", type=int, default=200, help="spaCy's default")
    parser.add_argument(
        "--no-spacy-refit",
        action="store_true",
        help="keep spaCy's model-best, even where the sparkner recipe refits on train + dev",
    )
    parser.add_argument("--spacy-batch-size", type=int, default=1000, help="nlp.pipe batch")
    parser.add_argument("--quick", action="store_true", help="tiny budgets, one run: a smoke run")
    args = parse_or_serve_role(parser, ROLES)
    if args is None:  # a role, run in its own process
        return None

    if args.quick:
        args.runs, args.words = 1, 20_000
        args.spacy_max_steps, args.spacy_eval_frequency = 30, 10
    args.datasets = list(DATASETS) if args.data == "both" else [args.data]
    data_dir = str(args.data_dir.resolve())
    begun = time.perf_counter()
    results: dict[str, Any] = {"load_average_start": os.getloadavg()[0], "load_averages_speed": []}
    with tempfile.TemporaryDirectory(prefix="sparkner-compare-spacy-") as scratch:

        def spec(**extra: Any) -> dict[str, Any]:
            return {"load_average_before": os.getloadavg()[0], "runs": args.runs, **extra}

        # Accuracy first (training both systems), then all speed measures together.
        for data in args.datasets:
            folder = os.path.join(scratch, data)
            os.makedirs(folder)
            model = args.sparkner_ncbi_model
            results[data] = {
                "prepare": run_role(
                    "prepare",
                    spec(
                        data=data,
                        folder=folder,
                        data_dir=data_dir,
                        quick=args.quick,
                        sparkner_model=str(model.resolve()) if model else None,
                    ),
                    scratch,
                ),
            }
            refit = results[data]["prepare"]["refit"] and not args.no_spacy_refit
            results[data]["spacy_train"] = run_role(
                "spacy_train",
                spec(
                    folder=folder,
                    seed=args.seed,
                    max_steps=args.spacy_max_steps,
                    refit=refit,
                    patience=args.spacy_patience,
                    eval_frequency=args.spacy_eval_frequency,
                ),
                scratch,
            )
            texts = speed_texts(read_json(os.path.join(folder, "test.json")), args.words)
            write_json(os.path.join(folder, "texts.json"), texts)
            results[data]["texts"] = {
                "words": texts["words"],
                "texts": len(texts["measured"]),
                "distinct": len(texts["distinct"]),
                "distinct_words": texts["distinct_words"],
            }
        for data in args.datasets:
            folder = os.path.join(scratch, data)
            texts_path = os.path.join(folder, "texts.json")
            r = results[data]
            log(f"{data}: speed, {r['texts']['words']:,} words per run")
            results["load_averages_speed"].append(os.getloadavg()[0])
            r["spacy_speed"] = run_role(
                "spacy_speed",
                spec(
                    texts=texts_path,
                    model=r["spacy_train"]["model"],
                    batch=args.spacy_batch_size,
                ),
                scratch,
                env=ONE_THREAD,
            )
            results["load_averages_speed"].append(os.getloadavg()[0])
            r["light"] = run_role(
                "light",
                spec(
                    texts=texts_path,
                    pipeline=r["prepare"]["pipeline"],
                    tagger_folder=r["prepare"].get("tagger_folder"),
                ),
                scratch,
            )
            results["load_averages_speed"].append(os.getloadavg()[0])
            spark_scratch = os.path.join(folder, "spark")
            os.makedirs(spark_scratch)
            r["spark"] = run_role(
                "spark",
                spec(
                    texts=texts_path,
                    pipeline=r["prepare"]["pipeline"],
                    master="local[2]",
                    scratch=spark_scratch,
                ),
                scratch,
            )
    results["load_average_end"] = os.getloadavg()[0]
    try:
        report(args, results, time.perf_counter() - begun)
    except Exception:
        print(json.dumps({"bench": "compare_spacy", "report_failed": True, "results": results}))
        raise
    return None


if __name__ == "__main__":
    sys.exit(main())
