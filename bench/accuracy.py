"""Train a tagger from scratch with its recipe and score it on the official test split.

    python bench/accuracy.py --data ncbi_disease|bc5cdr [--data-dir ../shared/data] [--save DIR]
    python bench/accuracy.py --data clinical [--split test|dev] [--data-dir ../shared/data]
                             [--model DIR]
    python bench/accuracy.py --data notes [--split dev] [--data-dir ../shared/data] [--model DIR]

Prints strict and relaxed entity-level precision / recall / F1 per type, the dev figures of
the kept epoch, the training time, and one JSON line. Model selection sees the dev split
only; the test split is read once, here, for the final figure.

``--data clinical`` trains nothing: it scores the bundled ``ner_clinical`` (or the tagger
folder ``--model``) on the MACCROBAT test split of ``conf/ner_clinical.yaml`` twice, with the
spans in the clinical (2010 i2b2/VA) convention and with MACCROBAT's own spans, then on the
Chia test split (its own spans), and prints one JSON line with all three (``--split dev``:
the dev splits instead, to choose between taggers). A tagger trained
with lexicon features gets the recipe's bundled lexicon (``lexicon_clinical``).

``--data notes`` trains nothing either: it runs the tagger as users do (raw note text through
DocumentAssembler, SentenceDetector, Tokenizer, the vectors, the lexicon if the tagger reads
one, the tagger and NerConverter, in the LightPipeline) on ``clinical_notes/<split>`` (dev
only: the notes have no test split here; the hidden notes are measured by the issue's
authors) and scores the chunks against the gold character spans: strict and relaxed per
type, per note kind (``sparkner.training.notes.note_kind``), recall per gold assertion
value, and the strict errors by class (spurious, missed, boundary, type), then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from bench_support import DATA, REPO


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", required=True, choices=["ncbi_disease", "bc5cdr", "clinical", "notes"]
    )
    parser.add_argument(
        "--split",
        default=None,
        choices=["dev", "test", "train"],
        help="--data notes: dev (default) or train; --data clinical: test (default) or dev",
    )
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    parser.add_argument("--save", type=Path, help="also save the trained tagger's files here")
    parser.add_argument(
        "--model", type=Path, help="--data clinical or notes: a tagger folder to score"
    )
    args = parser.parse_args()
    if args.data == "notes":
        if args.split == "test":
            raise SystemExit("--data notes: the notes have a train and a dev split only")
        return notes(args.data_dir, args.split or "dev", args.model)
    if args.data == "clinical":
        return bundled_clinical(args.data_dir, args.model, args.split or "test")

    import sparkner
    from sparkner.training.ner import dev_figures, evaluate_split, load_recipe, train_recipe

    recipe = load_recipe(REPO / "conf" / f"ner_{args.data}.yaml")
    if args.seed is not None:
        recipe.settings["randomSeed"] = args.seed
    recipe.settings["verbose"] = False
    spark = sparkner.start(master="local[2]")
    model, seconds = train_recipe(spark, recipe, args.data_dir)
    result = evaluate_split(spark, model, recipe, args.data_dir, "test")
    record = model.training_record()
    if args.save:
        shutil.copytree(model.files_folder(), args.save)
    spark.stop()

    print(
        f"{recipe.name}: trained in {seconds / 60:.1f} min, {len(record['epochs'])} epochs, "
        f"on {os.cpu_count()} cores"
    )
    dev = dev_figures(record)
    if recipe.refit:
        print(f"then trained again on train + dev for {record['refit_epochs']} epochs")
    print(f"dev (model selection), kept epoch: strict F1 {dev['f1']:.4f}")
    print("test split:")
    print(result.table())
    print(
        json.dumps(
            {
                "bench": "accuracy",
                "data": args.data,
                "seconds": round(seconds, 1),
                "epochs": len(record["epochs"]),
                "dev_strict_f1": dev["f1"],
                "refit": recipe.refit,
                "test": result.as_dict()["strict"],
                "test_relaxed_f1": round(result.relaxed.micro.f1, 4),
            }
        )
    )


def bundled_clinical(data_dir: Path, folder: Path | None = None, split: str = "test") -> None:
    """ner_clinical (or the tagger in ``folder``) on the MACCROBAT test (or dev) split in
    both span conventions, and on the Chia test (or dev) split."""
    import dataclasses

    import sparkner
    from sparkner.annotators.ner_dl import NerDLModel
    from sparkner.training.ner import SPAN_CONVENTIONS, evaluate_split, load_recipe

    recipe = load_recipe(REPO / "conf" / "ner_clinical.yaml")
    model = NerDLModel().attach_files(folder) if folder else NerDLModel.pretrained()
    if model.lexicon_classes():
        recipe = dataclasses.replace(recipe, lexicon=recipe.lexicon or "lexicon_clinical")
        model.setInputCols(["sentence", "token", "embeddings", "lexicon"])
    spark = sparkner.start(master="local[2]")
    figures = {}
    runs = [(f"MACCROBAT {split} split, {c} spans", c, "maccrobat") for c in SPAN_CONVENTIONS]
    runs.append((f"Chia {split} split", recipe.span_convention, "chia/chia_without_scope"))
    for title, convention, corpus in runs:
        spans = dataclasses.replace(recipe, span_convention=convention)
        result = evaluate_split(spark, model, spans, data_dir, split, corpus)
        print(f"{title}:")
        print(result.table())
        figures[convention if corpus == "maccrobat" else "chia"] = {
            "strict": result.as_dict()["strict"],
            "strict_f1": round(result.strict.micro.f1, 4),
            "relaxed_f1": round(result.relaxed.micro.f1, 4),
        }
    spark.stop()
    print(
        json.dumps(
            {
                "bench": "accuracy",
                "data": "clinical",
                "model": str(folder) if folder else "ner_clinical",
                "split": split,
                **figures,
            }
        )
    )


def notes(data_dir: Path, split: str, folder: Path | None = None) -> None:
    """ner_clinical (or the tagger in ``folder``) on the annotated clinical notes."""
    from collections import Counter, defaultdict

    from sparkner import (
        DocumentAssembler,
        LexiconMatcherModel,
        LightPipeline,
        NerConverter,
        NerDLModel,
        SentenceDetector,
        Tokenizer,
        WordEmbeddingsModel,
    )
    from sparkner.ner.metrics import ERROR_CLASSES, error_classes, evaluate_spans
    from sparkner.training.notes import KINDS, mtsamples_rows, note_kind, read_notes

    documents = read_notes(data_dir / "clinical_notes" / split)
    rows = {r["note_id"]: r for r in mtsamples_rows(data_dir / "unlabeled" / "mtsamples.csv.xz")}
    kinds = [
        note_kind(rows[n.id]["medical_specialty"], rows[n.id]["sample_name"], n.text)
        for n in documents
    ]
    tagger = NerDLModel().attach_files(folder) if folder else NerDLModel.pretrained()
    stages = [
        DocumentAssembler(),
        SentenceDetector(),
        Tokenizer(),
        WordEmbeddingsModel.pretrained(),
    ]
    if tagger.lexicon_classes():
        stages.append(LexiconMatcherModel.pretrained())
        tagger.setInputCols(["sentence", "token", "embeddings", "lexicon"])
    stages += [tagger, NerConverter()]
    light = LightPipeline(stages)
    annotated = light.fullAnnotate([n.text for n in documents])
    # Inclusive character spans on both sides, as the chunks carry them.
    gold = [[(m.begin, m.end - 1, m.type) for m in n.mentions] for n in documents]
    predicted = [
        [(a.begin, a.end, a.metadata["entity"]) for a in row["ner_chunk"]] for row in annotated
    ]
    for note, spans in zip(documents, predicted, strict=True):
        for begin, end, _ in spans:
            assert note.text[begin : end + 1], "a chunk outside its note"
    strict, relaxed = evaluate_spans(gold, predicted)
    name = str(folder) if folder else "ner_clinical"
    print(f"{name} on clinical_notes/{split}: {len(documents)} notes, {sum(map(len, gold))} gold")
    print(f"{'type':<12}{'strict P':>9}{'R':>7}{'F1':>7}{'relaxed F1':>12}")
    for kind in [*sorted(strict.by_type), "micro"]:
        s = strict.micro if kind == "micro" else strict.by_type[kind]
        r = relaxed.micro if kind == "micro" else relaxed.by_type[kind]
        print(f"{kind:<12}{s.precision:>9.4f}{s.recall:>7.4f}{s.f1:>7.4f}{r.f1:>12.4f}")

    by_kind = {}
    print(f"\n{'note kind':<12}{'notes':>6}{'gold':>6}{'strict F1':>11}{'relaxed F1':>12}")
    for kind in KINDS:
        chosen = [i for i, k in enumerate(kinds) if k == kind]
        if not chosen:
            continue
        ks, kr = evaluate_spans([gold[i] for i in chosen], [predicted[i] for i in chosen])
        mentions = sum(len(gold[i]) for i in chosen)
        print(f"{kind:<12}{len(chosen):>6}{mentions:>6}{ks.micro.f1:>11.4f}{kr.micro.f1:>12.4f}")
        by_kind[kind] = {"notes": len(chosen), "strict_f1": round(ks.micro.f1, 4)}

    found: dict[str, Counter[str]] = defaultdict(Counter)
    for note, spans in zip(documents, predicted, strict=True):
        exact = set(spans)
        for m in note.mentions:
            found[m.assertion]["gold"] += 1
            found[m.assertion]["found"] += (m.begin, m.end - 1, m.type) in exact
    print(f"\n{'gold assertion':<30}{'gold':>6}{'strict recall':>15}")
    recall_by_assertion = {}
    for value, c in sorted(found.items(), key=lambda item: -item[1]["gold"]):
        recall_by_assertion[value] = round(c["found"] / c["gold"], 4)
        print(f"{value:<30}{c['gold']:>6}{c['found'] / c['gold']:>15.4f}")

    errors = error_classes(gold, predicted)
    total = sum(errors.values())
    print(f"\n{'strict errors':<12}{'count':>7}{'share':>8}")
    for kind in ERROR_CLASSES:
        print(f"{kind:<12}{errors[kind]:>7}{errors[kind] / max(total, 1):>8.1%}")
    print(
        json.dumps(
            {
                "bench": "accuracy",
                "data": "notes",
                "split": split,
                "model": name,
                "strict": strict.micro.as_dict(),
                "strict_f1": round(strict.micro.f1, 4),
                "relaxed_f1": round(relaxed.micro.f1, 4),
                "by_type": {t: round(v.f1, 4) for t, v in sorted(strict.by_type.items())},
                "by_kind": by_kind,
                "recall_by_assertion": recall_by_assertion,
                "errors": dict(errors),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
