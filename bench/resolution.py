"""Concept resolution on NCBI-disease, end to end, what the resolver costs, and a sample of
ICD-10-CM codes on clinical notes to check by hand.

    python bench/resolution.py [--data-dir ../shared/data] [--tagger DIR] [--skip ...]
        [--notes 30] [--runs 5] [--spark-notes 60] [--warm-notes 100]
    python bench/resolution.py --icd-sample 100

1. Gold mentions of the NCBI-disease test split through the bundled ``resolver_mesh`` (each
   mention with the abbreviations of its abstract expanded): accuracy@1 on the mentions
   whose concept is a MeSH descriptor (the issue's goal: >= 0.90) three ways (see
   :func:`gold_mentions`: the stage's default, composites split as BioSyn / SapBERT score
   them, and the stage with ``composites`` on) and on all mentions (OMIM and supplementary
   concepts count as misses). Also the share coded at the default threshold and the
   accuracy of those codes.
2. End to end: the abstracts through a disease tagger and
   ``ChunkResolverModel.pretrained("resolver_mesh")``: abstract-level concept precision,
   recall and F1 (the set of codes of an abstract against its gold ids, as DNorm and
   TaggerOne report), with ``composites`` off and on. ``--tagger DIR``: an NCBI-disease
   tagger, as ``sparkner train --config conf/ner_ncbi_disease.yaml --data ../shared/data
   --output DIR`` writes it (or a NerDLModel saved with ``write().save()``); by default the
   bundled ``ner_bc5cdr``, whose ``Disease`` chunks follow BC5CDR's span convention.
3. Cost: ``ner_clinical_resolved_pipeline`` against the same stages without the two
   resolvers, notes per second, medians of ``--runs`` runs, the two pipelines alternating,
   every run on notes neither has met: the LightPipeline on ``--notes`` notes a run, then
   Spark ``local[2]`` (the fused UDF, as ``sparkner annotate`` runs it) on ``--spark-notes``
   a run, each after ``--warm-notes`` warm-up notes that are not timed.
4. ``--icd-sample N``: a seeded sample of the ``clinical_notes/dev`` PROBLEM chunks whose span
   is a gold PROBLEM's, with the ICD-10-CM code ``ner_clinical_resolved_pipeline`` gives
   each (and the best candidate under the threshold), to judge by hand
   (docs/models/resolvers.md holds the judged table).

Everything was selected on dev (sparkner/training/resolver.py); the test split is read for
the final figures only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench_support import DATA, load_notes, log, machine, write_noop, write_spark_table

from sparkner.resolution.abbreviations import expand, find_abbreviations
from sparkner.resolution.composites import split_composite
from sparkner.resolution.resolver import load_resolver
from sparkner.resources import bundled_folder
from sparkner.training.pubtator import read_pubtator

DISEASE = "Disease"


def gold_mentions(resolver, abstracts) -> dict[str, float]:
    """Accuracy@1 of gold mentions, two ways. ``reference``: as BioSyn and SapBERT score
    NCBI-disease: a mention whose gold has several ids ("breast and ovarian cancer",
    D001943|D010051) is split into its parts when the coordination splits into as many (the
    gold says it is composite) and is right when every part's code is one of the ids; other
    mentions are right when their code is one of their ids. ``own``: what the stage does by
    itself (``composites`` off, its default): one code per mention, right when it is one of
    the ids; ``own_composites``: the stage with ``composites`` on (right when every code it
    names is one of the ids)."""
    codes = resolver.vocabulary.codes
    descriptors = set(codes)
    right = {"reference": 0, "own": 0, "own_composites": 0, "own_all": 0}
    total_mesh = total_all = coded = coded_right = 0
    for abstract in abstracts:
        abbreviations = find_abbreviations(abstract.text)
        texts = [expand(m.text, abbreviations) for m in abstract.mentions]
        plain = resolver.resolve_mentions(texts, DISEASE, composites=False)
        split = resolver.resolve_mentions(texts, DISEASE, composites=True)
        for mention, text, own, own_split in zip(
            abstract.mentions, texts, plain, split, strict=True
        ):
            ids = set(mention.ids)
            is_mesh = bool(ids & descriptors)
            parts = split_composite(text) if len(mention.ids) > 1 else None
            if parts and len(parts) == len(mention.ids):
                found = resolver.resolve_many(parts, DISEASE)
                reference = all(f and codes[f[0].concept] in ids for f in found)
            else:
                reference = bool(own.candidates) and codes[own.candidates[0].concept] in ids
            hit = bool(own.candidates) and codes[own.candidates[0].concept] in ids
            named = [codes[c] for c in own_split.concepts()]
            total_all += 1
            right["own_all"] += hit
            if is_mesh:
                total_mesh += 1
                right["reference"] += reference
                right["own"] += hit
                right["own_composites"] += bool(named) and all(c in ids for c in named)
            if own.confidence >= 0.5:
                coded += 1
                coded_right += hit
    return {
        "accuracy_at_1_mesh_descriptor_mentions_reference_protocol": round(
            right["reference"] / total_mesh, 4
        ),
        "accuracy_at_1_mesh_descriptor_mentions_own": round(right["own"] / total_mesh, 4),
        "accuracy_at_1_mesh_descriptor_mentions_own_composites": round(
            right["own_composites"] / total_mesh, 4
        ),
        "accuracy_at_1_all_mentions_own": round(right["own_all"] / total_all, 4),
        "mesh_descriptor_mentions": total_mesh,
        "all_mentions": total_all,
        "coded_at_threshold_0.5": round(coded / total_all, 4),
        "accuracy_of_codes_at_threshold_0.5": round(coded_right / max(coded, 1), 4),
    }


def end_to_end(abstracts, tagger_folder: str | None) -> dict[str, object]:
    from pyspark.ml import PipelineModel

    from sparkner import (
        ChunkResolverModel,
        DocumentAssembler,
        LightPipeline,
        NerConverter,
        NerDLModel,
        SentenceDetector,
        Tokenizer,
        WordEmbeddingsModel,
    )

    if tagger_folder is None:
        tagger = NerDLModel.pretrained("ner_bc5cdr")
    elif Path(tagger_folder, "metadata").exists():  # a stage saved with write().save()
        tagger = NerDLModel.load(tagger_folder)
    else:  # a tagger folder as `sparkner train` writes it
        tagger = NerDLModel().attach_files(tagger_folder)
    stages = [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        WordEmbeddingsModel.pretrained("embeddings_clinical"),
        tagger.setInputCols(["sentence", "token", "embeddings"]),
        NerConverter().setWhiteList([DISEASE]),
        ChunkResolverModel.pretrained("resolver_mesh").setEntityTypes([DISEASE]),
        ChunkResolverModel.pretrained("resolver_mesh")
        .setEntityTypes([DISEASE])
        .setComposites(True)
        .setOutputCol("resolution_composites"),
    ]
    light = LightPipeline(PipelineModel(stages=stages))
    results = light.fullAnnotate([a.text for a in abstracts])
    report: dict[str, object] = {"tagger": tagger_folder or "ner_bc5cdr (bundled; Disease chunks)"}
    for column, name in (("resolution", "default"), ("resolution_composites", "composites")):
        tp = fp = fn = 0
        for abstract, row in zip(abstracts, results, strict=True):
            predicted = set()
            for annotation in row[column]:
                composite = annotation.metadata.get("composite_codes")
                predicted.update(composite.split("|") if composite else [annotation.result])
            gold = {i for m in abstract.mentions for i in m.ids}
            tp += len(predicted & gold)
            fp += len(predicted - gold)
            fn += len(gold - predicted)
        precision = tp / max(tp + fp, 1)
        recall = tp / max(tp + fn, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        report[name] = {
            "concept_precision": round(precision, 4),
            "concept_recall": round(recall, 4),
            "concept_f1": round(f1, 4),
        }
    return report


def cost(notes: list[str], count: int, runs: int, spark_notes: int, warm: int) -> dict[str, object]:
    """Throughput with and without the two resolvers, each timed run on notes neither
    pipeline has seen before (the resolver remembers mentions it has resolved, which is
    fair within a stream of notes, not across repeats of the same notes): the LightPipeline
    on ``count`` notes a run, then Spark ``local[2]`` on ``spark_notes`` a run, each after a
    warm-up on ``warm`` other notes."""
    import tempfile

    from pyspark.ml import PipelineModel

    import sparkner
    from sparkner import LightPipeline
    from sparkner.apps.pretrained import pretrained_pipeline_model
    from sparkner.runtime.fused import fused_transform

    resolved = pretrained_pipeline_model("ner_clinical_resolved_pipeline")
    base = PipelineModel(stages=resolved.stages[:-2])
    models = {"without": base, "with": resolved}
    pipelines = {name: LightPipeline(model) for name, model in models.items()}
    needed = warm + runs * count + warm + runs * spark_notes
    if len(notes) < needed:
        raise SystemExit(f"--notes/--runs/--spark-notes need {needed} notes, {len(notes)} read")
    for light in pipelines.values():
        # Warm-up, not timed: loading, TensorFlow's first trace, and the resolvers' facts
        # of the aliases they meet (a worker in a real job has met many).
        light.fullAnnotate(notes[:warm])
    seconds: dict[str, list[float]] = {"without": [], "with": []}
    chunks = codes = 0
    for run in range(runs):
        batch = notes[warm + run * count : warm + (run + 1) * count]
        for name in ("without", "with") if run % 2 == 0 else ("with", "without"):
            start = time.perf_counter()
            annotated = pipelines[name].fullAnnotate(batch)
            seconds[name].append(time.perf_counter() - start)
            if name == "with":
                chunks += sum(len(r["ner_chunk"]) for r in annotated)
                codes += sum(len(r["icd10cm_code"]) + len(r["drug_code"]) for r in annotated)
        log(
            f"light run {run + 1}: without {seconds['without'][-1]:.2f}s, "
            f"with {seconds['with'][-1]:.2f}s"
        )
    rate = {k: count / statistics.median(v) for k, v in seconds.items()}
    report: dict[str, object] = {
        "lightpipeline": {
            "notes_a_run": count,
            "warm_up_notes": warm,
            "runs": runs,
            "notes_per_second_without": round(rate["without"], 2),
            "notes_per_second_with": round(rate["with"], 2),
            "throughput_share": round(rate["with"] / rate["without"], 3),
            "seconds_without": [round(x, 2) for x in seconds["without"]],
            "seconds_with": [round(x, 2) for x in seconds["with"]],
            "chunks": chunks,
            "codes": codes,
        }
    }
    if spark_notes <= 0:
        return report
    spark = sparkner.start(master="local[2]")
    kept = {
        "without": [base.stages[-1].getOutputCol(), "ner_chunk"],
        "with": [base.stages[-1].getOutputCol(), "ner_chunk", "icd10cm_code", "drug_code"],
    }
    offset = warm + runs * count
    spark_seconds: dict[str, list[float]] = {"without": [], "with": []}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(runs + 1):  # the first run warms the workers up, not counted
            path = f"{scratch}/notes{run}.parquet"
            start_note = offset + (warm + (run - 1) * spark_notes if run else 0)
            size = spark_notes if run else warm
            write_spark_table(spark, notes[start_note : start_note + size], path)
            for name in ("without", "with") if run % 2 == 0 else ("with", "without"):
                # As `sparkner annotate` and PretrainedPipeline.transform run it: the fused
                # UDF, and only the columns a user keeps (the chunks, their assertions and,
                # with the resolvers, the codes).
                frame = fused_transform(models[name], spark.read.parquet(path))
                start = time.perf_counter()
                write_noop(frame.select("id", *kept[name]))
                if run:
                    spark_seconds[name].append(time.perf_counter() - start)
            if run:
                log(
                    f"local[2] run {run}: without {spark_seconds['without'][-1]:.2f}s, "
                    f"with {spark_seconds['with'][-1]:.2f}s"
                )
    spark_rate = {k: spark_notes / statistics.median(v) for k, v in spark_seconds.items()}
    report["spark_local2"] = {
        "notes_a_run": spark_notes,
        "warm_up_notes": warm,
        "runs": runs,
        "notes_per_second_without": round(spark_rate["without"], 2),
        "notes_per_second_with": round(spark_rate["with"], 2),
        "throughput_share": round(spark_rate["with"] / spark_rate["without"], 3),
        "seconds_without": [round(x, 2) for x in spark_seconds["without"]],
        "seconds_with": [round(x, 2) for x in spark_seconds["with"]],
    }
    return report


def icd_sample(data_dir: Path, size: int, seed: int = 28) -> list[dict[str, object]]:
    """``ner_clinical_resolved_pipeline`` on the ``clinical_notes/dev`` notes: the PROBLEM
    chunks whose span is a gold PROBLEM's, a seeded sample of ``size`` of them, each with its
    ICD-10-CM code and the code's name (None: no code at the default threshold)."""
    import random

    from sparkner import LightPipeline
    from sparkner.apps.pretrained import pretrained_pipeline_model

    folder = data_dir / "clinical_notes" / "dev"
    light = LightPipeline(pretrained_pipeline_model("ner_clinical_resolved_pipeline"))
    matched = []
    for path in sorted(folder.glob("*.txt"), key=lambda p: int(p.stem)):
        text = path.read_text(encoding="utf-8")
        gold = set()
        for line in path.with_suffix(".ann").read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if line.startswith("T") and fields[1].split()[0] == "PROBLEM":
                _, begin, end = fields[1].split()
                gold.add((int(begin), int(end)))
        row = light.fullAnnotate([text])[0]
        codes = {(a.begin, a.end): a for a in row["icd10cm_code"]}
        for chunk in row["ner_chunk"]:
            span = (chunk.begin, chunk.end + 1)
            if chunk.metadata.get("entity") != "PROBLEM" or span not in gold:
                continue
            code = codes.get((chunk.begin, chunk.end))
            matched.append(
                {
                    "note": path.stem,
                    "mention": chunk.result,
                    "code": code.result if code else None,
                    "concept_name": code.metadata["resolved_text"] if code else None,
                    "confidence": code.metadata["confidence"] if code else None,
                }
            )
    log(f"{len(matched)} PROBLEM chunks with a gold span; sampling {size} (seed {seed})")
    picked = random.Random(seed).sample(range(len(matched)), min(size, len(matched)))
    sample = [matched[i] for i in sorted(picked)]
    # The best candidate whatever its confidence (what a lower threshold would give).
    resolver = load_resolver(str(bundled_folder("resolver_icd10cm", "resolver.json", "resolver")))
    for item in sample:
        note = (folder / f"{item['note']}.txt").read_text(encoding="utf-8")
        text = expand(str(item["mention"]), find_abbreviations(note))
        (found,) = resolver.resolve_mentions([text], "PROBLEM")
        best = found.best
        item["best_code"] = resolver.vocabulary.codes[best.concept] if best else None
        item["best_name"] = resolver.vocabulary.names[best.concept] if best else None
        item["best_confidence"] = f"{found.confidence:.4f}" if best else None
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--tagger", help="an NCBI-disease NerDLModel folder (default: ner_bc5cdr)")
    parser.add_argument("--notes", type=int, default=30, help="notes a LightPipeline run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--spark-notes", type=int, default=60, help="notes a local[2] run (0: no Spark run)"
    )
    parser.add_argument(
        "--warm-notes", type=int, default=100, help="notes each path warms up on, not timed"
    )
    parser.add_argument(
        "--icd-sample",
        type=int,
        default=0,
        help="print a seeded sample of this many dev PROBLEM chunks with their ICD-10-CM code "
        "(clinical_notes/dev, chunks whose span is a gold PROBLEM) and stop",
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["gold", "end_to_end", "cost"])
    args = parser.parse_args()
    print(machine())
    if args.icd_sample:
        for number, item in enumerate(icd_sample(args.data_dir, args.icd_sample), 1):
            print(
                f"{number}\tnote {item['note']}\t{item['mention']}\t{item['code'] or '-'}"
                f"\t{item['concept_name'] or '-'}\t{item['confidence'] or '-'}"
                f"\tbest: {item['best_code'] or '-'}\t{item['best_name'] or '-'}"
                f"\t{item['best_confidence'] or '-'}"
            )
        return
    report: dict[str, object] = {}
    if "gold" not in args.skip or "end_to_end" not in args.skip:
        test = read_pubtator(args.data_dir / "ncbi_disease" / "concepts" / "test.pubtator.txt")
    if "gold" not in args.skip:
        resolver = load_resolver(str(bundled_folder("resolver_mesh", "resolver.json", "resolver")))
        start = time.perf_counter()
        report["gold_mentions"] = gold_mentions(resolver, test)
        log(f"gold mentions resolved in {time.perf_counter() - start:.1f}s")
        print("NCBI-disease test, gold mentions:", report["gold_mentions"])
    if "end_to_end" not in args.skip:
        report["end_to_end"] = end_to_end(test, args.tagger)
        print("NCBI-disease test, tagger + resolver:", report["end_to_end"])
    if "cost" not in args.skip:
        report["cost"] = cost(
            load_notes(args.data_dir), args.notes, args.runs, args.spark_notes, args.warm_notes
        )
        print("cost:", report["cost"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
