"""The ``sparkner`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from sparkner.apps.annotate import INPUT_FORMATS, OUTPUT_FORMATS, AnnotateJob, Summary, annotate
from sparkner.apps.annotate.local_input import IN_PROCESS_MAX_ROWS
from sparkner.apps.annotate.options import RESOLVERS


def _build_embeddings(args: argparse.Namespace) -> int:
    from sparkner.training.embeddings import build_embeddings, load_config

    stats = build_embeddings(load_config(args.config), args.data, args.output)
    print(json.dumps({k: v for k, v in stats.items() if k != "config"}, indent=1))
    return 0


def _neighbours(args: argparse.Namespace) -> int:
    from sparkner.annotators.word_embeddings import WordEmbeddingsModel
    from sparkner.embeddings.store import open_store

    model = (
        WordEmbeddingsModel().attach_files(args.store)
        if args.store
        else WordEmbeddingsModel.pretrained(args.name)
    )
    store = open_store(model.files_folder())
    for word in args.words:
        try:
            near = store.nearest(word, args.k)
        except KeyError:
            print(f"{word}: not in the vocabulary")
            continue
        print(f"{word}: " + ", ".join(f"{w} ({score:.2f})" for w, score in near))
    return 0


def _train(args: argparse.Namespace) -> int:
    import shutil

    from sparkner.training.ner import dev_figures, load_recipe, train_recipe

    recipe = load_recipe(args.config)
    spark = _session(args)
    model, seconds = train_recipe(spark, recipe, args.data)
    if os.path.exists(args.output):
        if not args.overwrite:
            raise ValueError(f"{args.output} exists; pass --overwrite to replace it")
        shutil.rmtree(args.output)
    shutil.copytree(model.files_folder(), args.output)
    record = model.training_record()
    summary = {
        "name": recipe.name,
        "seconds": round(seconds, 1),
        "epochs": len(record["epochs"]),
        "refit_on_train_and_dev": recipe.refit,
        "dev": dev_figures(record),
        "output": args.output,
    }
    print(json.dumps(summary, indent=1))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from sparkner.annotators.ner_dl import NerDLModel
    from sparkner.annotators.word_embeddings import WordEmbeddingsModel
    from sparkner.evaluation import evaluate_dataframe
    from sparkner.training.conll import CoNLL

    model = (
        NerDLModel().attach_files(args.model)
        if os.path.isdir(args.model)
        else NerDLModel.pretrained(args.model)
    )
    spark = _session(args)
    if args.config:
        from sparkner.training.ner import evaluate_split, load_recipe

        if not args.data_dir:
            raise ValueError("--config needs --data-dir, the folder the recipe's paths are in")
        recipe = load_recipe(args.config)
        result = evaluate_split(spark, model, recipe, args.data_dir, args.split, args.corpus)
    else:
        if not args.data:
            raise ValueError("give --data FILE, or --config RECIPE with --data-dir")
        vectors = WordEmbeddingsModel.pretrained(args.embeddings)
        frame = vectors.transform(CoNLL().readDataset(spark, args.data))
        result = evaluate_dataframe(model.setOutputCol("ner").transform(frame), "label", "ner")
    print(result.table())
    return 0


def _annotate(args: argparse.Namespace) -> int:
    job = AnnotateJob(
        input=args.input,
        output=args.output,
        text_col=args.text_col,
        id_col=args.id_col,
        model=args.model,
        input_format=args.input_format,
        output_format=args.format,
        overwrite=args.overwrite,
        partitions=args.partitions,
        resolve=tuple(args.resolve.split(",")) if args.resolve else (),
    )
    # Before Spark starts: a wrong path or option fails in a second. Over Spark Connect the
    # paths are the server's, which this machine may not see.
    job.check(local_paths=not _is_remote(args))
    started = time.perf_counter()
    progress = None if args.quiet else sys.stderr
    summary = _run_job(args, job, progress, started)
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        print("\n".join(summary.lines()))
    return 0


def _run_job(args: argparse.Namespace, job: AnnotateJob, progress: Any, started: float) -> Summary:
    """The job in this process when Spark is not asked for and the input is small and local
    (the same table, without a JVM), else on Spark; there, a small input skips the warm-up
    job (its first tasks load the models)."""
    from sparkner.apps.annotate.local_input import small_local_notes

    # Read here, a small local input's column errors come before Spark starts too.
    notes = None if _is_remote(args) else small_local_notes(job)
    if notes is not None and not _spark_asked_for(args):
        from sparkner.apps.annotate.in_process import annotate_in_process

        return annotate_in_process(job, notes, progress=progress, started=started)
    spark = _session(args)
    return annotate(spark, job, progress=progress, started=started, warm_up=notes is None)


def _spark_asked_for(args: argparse.Namespace) -> bool:
    """Whether the command must run on Spark: ``--spark``, a master or Spark Connect server
    named (options or ``SPARK_REMOTE``), ``spark-submit``'s JVM, or ``--partitions``."""
    return bool(
        getattr(args, "spark", False)
        or args.master
        or args.remote
        or getattr(args, "partitions", None)
        or os.environ.get("SPARK_REMOTE")
        or os.environ.get("PYSPARK_GATEWAY_PORT")
    )


def _short(assertion: str | None) -> str:
    """An assertion label that fits the demo's column."""
    return {"associated_with_someone_else": "other"}.get(assertion or "", assertion or "")


def _demo(args: argparse.Namespace) -> int:
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from sparkner.resources import sample_notes

    notes = sample_notes()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sparkner-demo-") as folder:
        source, target = os.path.join(folder, "notes.parquet"), os.path.join(folder, "entities")
        pq.write_table(pa.table({"id": list(notes), "text": list(notes.values())}), source)
        job = AnnotateJob(source, target, id_col="id", model=args.model)
        job.check()
        summary = _run_job(args, job, None, started)
        # Read as Spark reads the folder (the part files, not _SUCCESS), in the same order.
        table = pq.read_table(target).sort_by([("id", "ascending"), ("begin", "ascending")])
        rows = table.to_pylist()
    print(f"sparkner demo: {args.model} on {len(notes)} sample notes bundled with sparkner\n")
    asserted = "assertion" in table.column_names
    status = f"{'assertion':<13}" if asserted else ""
    print(f"{'note':<22}{'begin':>6}{'end':>6}  {'entity':<10}{'conf':>6}  {status}chunk")
    for row in rows:
        confidence = "" if row["confidence"] is None else f"{row['confidence']:.2f}"
        chunk = " ".join(row["chunk"].split())  # a chunk across a line break stays on one line
        status = f"{_short(row['assertion']):<13}" if asserted else ""
        print(
            f"{row['id']:<22}{row['begin']:>6}{row['end']:>6}  {row['entity']:<10}"
            f"{confidence:>6}  {status}{chunk}"
        )
    print()
    print("\n".join(line for line in summary.lines() if not line.startswith("output")))
    return 0


def _add_spark_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--master", default=None, help="Spark master (default local[*])")
    command.add_argument(
        "--remote",
        default=None,
        help="a Spark Connect server, sc://host:port (paths are then the server's)",
    )


def _add_spark_switch(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--spark",
        action="store_true",
        help="run on Spark even where the input is small and local (at most "
        f"{IN_PROCESS_MAX_ROWS:,} notes), which runs in this process by default; "
        "--master, --remote and --partitions imply it",
    )


def _session(args: argparse.Namespace) -> Any:
    from sparkner.runtime.session import start

    if args.master and args.remote:
        raise ValueError("give --master or --remote, not both")
    return start(master=args.master, remote=args.remote)


def _is_remote(args: argparse.Namespace) -> bool:
    from sparkner.runtime.session import requested_remote

    # As sparkner.start() decides (the CLI never runs inside an existing session).
    named = requested_remote(args.master, args.remote)
    return bool(named or (not args.master and os.environ.get("SPARK_REMOTE")))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparkner", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser(
        "build-embeddings", help="train word vectors from a recipe (needs the 'train' extra)"
    )
    build.add_argument("--config", required=True, help="e.g. conf/embeddings_clinical.yaml")
    build.add_argument("--data", required=True, help="the data folder, e.g. ../shared/data")
    build.add_argument("--output", required=True, help="folder to write the store to")
    build.set_defaults(run=_build_embeddings)

    train = commands.add_parser("train", help="train a NER tagger from a recipe")
    train.add_argument("--config", required=True, help="e.g. conf/ner_bc5cdr.yaml")
    train.add_argument("--data", required=True, help="the data folder, e.g. ../shared/data")
    train.add_argument("--output", required=True, help="folder to write the tagger to")
    train.add_argument("--overwrite", action="store_true", help="replace an existing output")
    _add_spark_options(train)
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="entity-level scores on a CoNLL/TSV file")
    evaluate.add_argument("--model", required=True, help="a bundled tagger or a tagger folder")
    evaluate.add_argument("--data", help="a CoNLL or TSV file with gold tags")
    evaluate.add_argument("--config", help="or a recipe: score one of its splits")
    evaluate.add_argument("--data-dir", help="with --config: the data folder")
    evaluate.add_argument("--split", default="test", choices=["train", "dev", "test"])
    evaluate.add_argument("--corpus", help="with --config: one brat folder of the recipe")
    evaluate.add_argument("--embeddings", default="embeddings_clinical")
    _add_spark_options(evaluate)
    evaluate.set_defaults(run=_evaluate)

    job = commands.add_parser(
        "annotate", help="find entities in a table of notes; write one row per entity"
    )
    job.add_argument("input", help="notes: a Parquet, CSV, JSON-lines or ORC file or folder")
    job.add_argument("output", help="the entity table to write (a folder)")
    job.add_argument("--text-col", default="text", help="the column with the note text")
    job.add_argument("--id-col", help="a column to copy to each entity row (default: row_id)")
    job.add_argument(
        "--model", default="ner_clinical", help="a bundled model or a saved pipeline folder"
    )
    job.add_argument(
        "--input-format", choices=INPUT_FORMATS, help="when the input's extension does not tell"
    )
    job.add_argument("--format", default="parquet", choices=OUTPUT_FORMATS, help="output format")
    job.add_argument("--overwrite", action="store_true", help="replace an existing output")
    job.add_argument("--partitions", type=int, help="spread the notes over this many tasks")
    job.add_argument(
        "--resolve",
        metavar="NAMES",
        help=f"code the chunks with bundled resolvers, comma-separated, of {list(RESOLVERS)} "
        "(icd10cm: PROBLEMs, drugs: TREATMENTs, mesh: all): adds code, vocabulary, "
        "concept_name",
    )
    _add_spark_options(job)
    _add_spark_switch(job)
    job.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    job.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    job.set_defaults(run=_annotate)

    demo = commands.add_parser("demo", help="annotate the sample notes bundled with sparkner")
    demo.add_argument("--model", default="ner_clinical", help="a bundled model")
    _add_spark_options(demo)
    _add_spark_switch(demo)
    demo.set_defaults(run=_demo)

    near = commands.add_parser("neighbours", help="nearest words in a set of word vectors")
    near.add_argument("words", nargs="+")
    near.add_argument("--name", default="embeddings_clinical", help="bundled vectors")
    near.add_argument("--store", help="a store folder instead of bundled vectors")
    near.add_argument("-k", type=int, default=8, help="neighbours per word")
    near.set_defaults(run=_neighbours)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, FileExistsError, ValueError, ConnectionError) as exc:
        # Messages name files and settings, never note text.
        print(f"sparkner {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
