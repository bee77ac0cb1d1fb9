"""Train a tagger from scratch with its recipe and score it on the official test split.

    python bench/accuracy.py --data ncbi_disease|bc5cdr [--data-dir ../shared/data] [--save DIR]
    python bench/accuracy.py --data clinical [--data-dir ../shared/data]

Prints strict and relaxed entity-level precision / recall / F1 per type, the dev figures of
the kept epoch, the training time, and one JSON line. Model selection sees the dev split
only; the test split is read once, here, for the final figure.

``--data clinical`` trains nothing: it scores the bundled ``ner_clinical`` on the MACCROBAT
test split of ``conf/ner_clinical.yaml`` twice, with the spans in the clinical (2010
i2b2/VA) convention and with MACCROBAT's own spans, and prints one JSON line with both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, choices=["ncbi_disease", "bc5cdr", "clinical"])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    parser.add_argument("--save", type=Path, help="also save the trained tagger's files here")
    args = parser.parse_args()
    if args.data == "clinical":
        return bundled_clinical(args.data_dir)

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

    print(f"{recipe.name}: trained in {seconds / 60:.1f} min, {len(record['epochs'])} epochs, "
          f"on {os.cpu_count()} cores")  # fmt: skip
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


def bundled_clinical(data_dir: Path) -> None:
    """The bundled ner_clinical on the MACCROBAT test split, in both span conventions."""
    import dataclasses

    import sparkner
    from sparkner.annotators.ner_dl import NerDLModel
    from sparkner.training.ner import SPAN_CONVENTIONS, evaluate_split, load_recipe

    recipe = load_recipe(REPO / "conf" / "ner_clinical.yaml")
    model = NerDLModel.pretrained("ner_clinical")
    spark = sparkner.start(master="local[2]")
    figures = {}
    for convention in SPAN_CONVENTIONS:
        spans = dataclasses.replace(recipe, span_convention=convention)
        result = evaluate_split(spark, model, spans, data_dir, "test", "maccrobat")
        print(f"MACCROBAT test split, {convention} spans:")
        print(result.table())
        figures[convention] = {
            "strict": result.as_dict()["strict"],
            "strict_f1": round(result.strict.micro.f1, 4),
            "relaxed_f1": round(result.relaxed.micro.f1, 4),
        }
    spark.stop()
    print(json.dumps({"bench": "accuracy", "data": "clinical", "model": "ner_clinical",
                      "split": "maccrobat test", **figures}))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
