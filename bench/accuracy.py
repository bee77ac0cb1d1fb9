"""Train a tagger from scratch with its recipe and score it on the official test split.

    python bench/accuracy.py --data ncbi_disease|bc5cdr [--data-dir ../shared/data] [--save DIR]
    python bench/accuracy.py --data clinical [--data-dir ../shared/data] [--model DIR]

Prints strict and relaxed entity-level precision / recall / F1 per type, the dev figures of
the kept epoch, the training time, and one JSON line. Model selection sees the dev split
only; the test split is read once, here, for the final figure.

``--data clinical`` trains nothing: it scores the bundled ``ner_clinical`` (or the tagger
folder ``--model``) on the MACCROBAT test split of ``conf/ner_clinical.yaml`` twice, with the
spans in the clinical (2010 i2b2/VA) convention and with MACCROBAT's own spans, then on the
Chia test split (its own spans), and prints one JSON line with all three. A tagger trained
with lexicon features gets the recipe's bundled lexicon (``lexicon_clinical``).
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
    parser.add_argument("--data", required=True, choices=["ncbi_disease", "bc5cdr", "clinical"])
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    parser.add_argument("--save", type=Path, help="also save the trained tagger's files here")
    parser.add_argument("--model", type=Path, help="--data clinical: a tagger folder to score")
    args = parser.parse_args()
    if args.data == "clinical":
        return bundled_clinical(args.data_dir, args.model)

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


def bundled_clinical(data_dir: Path, folder: Path | None = None) -> None:
    """ner_clinical (or the tagger in ``folder``) on the MACCROBAT test split in both span
    conventions, and on the Chia test split."""
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
    runs = [(f"MACCROBAT test split, {c} spans", c, "maccrobat") for c in SPAN_CONVENTIONS]
    runs.append(("Chia test split", recipe.span_convention, "chia/chia_without_scope"))
    for title, convention, corpus in runs:
        spans = dataclasses.replace(recipe, span_convention=convention)
        result = evaluate_split(spark, model, spans, data_dir, "test", corpus)
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
                "split": "test",
                **figures,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
