"""Score assertion status (the ConText rules, or the learned classifier) on gold spans of the
annotated clinical notes or of MACCROBAT.

    python bench/assertion.py [--data notes|maccrobat] [--split dev|test]
                              [--method rules|classifier] [--model FOLDER]
                              [--data-dir ../shared/data] [--max-scope N]
                              [--priority default|nearest] [--chunks gold|pipeline]
                              [--spans clinical|maccrobat]

``--data notes``: the annotated clinical notes (``clinical_notes/``, splits train and dev;
their test notes are held elsewhere), with every mention's assertion (present, absent,
possible, hypothetical, conditional, associated_with_someone_else). ``--data maccrobat``:
MACCROBAT's POLARITY as gold (NEG -> absent, UNCERTAIN / MAYBE_POS / MAYBE_NEG -> possible,
none -> present; sparkner.training.assertion_gold), on the NER recipe's split of the
documents, in the clinical span convention (``--spans maccrobat``: MACCROBAT's own).

``--method rules``: the ConText rules alone (``--max-scope`` and ``--priority`` override
theirs); ``--method classifier``: the learned classifier of the model folder (``--model``,
default the bundled ``assertion_clinical``), over the same rules. With ``--chunks gold`` every
gold mention is a chunk with its entity class (PROBLEM, TEST, TREATMENT) as its ``entity``
metadata, over sparkner's own sentences and tokens (the text stages' batch functions, no
Spark); with ``--chunks pipeline`` the chunks are those of the bundled
``ner_clinical_pipeline`` (its AssertionModel set to the method, in the LightPipeline), and
only chunks whose span matches a gold mention exactly are scored. Tune on dev; the test split
is for the final figure. Prints per-label precision, recall, F1 and the accuracy, then one
JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from bench_support import DATA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["notes", "maccrobat"], default="maccrobat")
    parser.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    parser.add_argument("--method", choices=["rules", "classifier"], default="classifier")
    parser.add_argument("--model", type=Path, default=None, help="a model folder (classifier)")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--max-scope", type=int, default=None, help="override the rules' window")
    parser.add_argument(
        "--priority",
        choices=["default", "nearest"],
        default=None,
        help="override the rules' priority",
    )
    parser.add_argument(
        "--chunks",
        choices=["gold", "pipeline"],
        default="gold",
        help="assert the gold mentions, or the pipeline's chunks",
    )
    parser.add_argument(
        "--spans",
        choices=["clinical", "maccrobat"],
        default="clinical",
        help="MACCROBAT's gold spans in the clinical convention (as ner_clinical's chunks "
        "since version 4) or MACCROBAT's own",
    )
    args = parser.parse_args()
    if args.method == "classifier" and (args.max_scope is not None or args.priority is not None):
        raise SystemExit("--max-scope and --priority apply to --method rules only")

    from sparkner.assertion import score_assertions
    from sparkner.training.assertion_gold import read_notes, read_split

    if args.data == "notes":
        if args.split == "test":
            raise SystemExit("the clinical notes' test split is held outside this repository")
        documents = read_notes(args.data_dir / "clinical_notes", args.split)
    else:
        documents = read_split(args.data_dir / "maccrobat", args.split, span_convention=args.spans)
    gold = [list(d.mentions) for d in documents]
    started = time.perf_counter()
    if args.chunks == "pipeline":
        predicted = _pipeline_assertions([d.text for d in documents], args)
    else:
        predicted = _gold_chunk_assertions(documents, args)
    seconds = time.perf_counter() - started
    scores = score_assertions(gold, predicted)
    where = f"{args.data} {args.split}" + (f", {args.spans} spans" if args.data != "notes" else "")
    print(
        f"{where}, {args.chunks} chunks, {args.method}: {len(documents)} documents, "
        f"{scores.total} gold mentions scored"
    )
    print(scores.table())
    by_label = scores.by_label()
    print(
        json.dumps(
            {
                "bench": "assertion",
                "data": args.data,
                "split": args.split,
                "method": args.method,
                "chunks": args.chunks,
                "spans": args.spans if args.data != "notes" else "notes",
                "documents": len(documents),
                "mentions": scores.total,
                "accuracy": round(scores.accuracy, 4),
                **{f"{k}_f1": round(v.f1, 4) for k, v in sorted(by_label.items())},
                "seconds": round(seconds, 3),
            }
        )
    )


def _rules(args: argparse.Namespace):
    from sparkner.assertion import bundled_rules, load_rules
    from sparkner.assertion.context import DEFAULT_PRIORITY

    rules = load_rules(args.model) if args.model is not None else bundled_rules()
    if args.priority is not None:
        rules = rules.with_settings(
            priority=None if args.priority == "nearest" else DEFAULT_PRIORITY
        )
    if args.max_scope is not None:
        rules = rules.with_settings(max_scope=args.max_scope)
    print(
        f"rules: max_scope {rules.max_scope} (backward {rules.max_scope_backward}), priority "
        f"{'nearest' if rules.priority is None else '>'.join(rules.priority)}, unasserted "
        f"{list(rules.unasserted_entities)}"
    )
    return rules


def _gold_chunk_assertions(documents: list, args: argparse.Namespace) -> list[list[tuple]]:
    """(begin, end, label) of every gold mention, asserted by the chosen method."""
    from sparkner.assertion.classifier import ClassifierModel, classify_chunks, load_classifier
    from sparkner.core.annotation import AnnotationBatch
    from sparkner.resources import bundled_folder
    from sparkner.training.assertion_spans import assert_spans, chunks_from_spans, text_columns

    texts = [d.text for d in documents]
    spans = [[(b, e) for b, e, _ in d.mentions] for d in documents]
    # Each chunk carries its entity class (PROBLEM, TEST, TREATMENT), as the NER's would.
    entities = [list(d.entities) for d in documents]
    if args.method == "rules":
        return assert_spans(texts, spans, _rules(args), entities)
    folder = args.model or bundled_folder(
        "assertion_clinical", "assertion_classifier.json", "assertion classifier"
    )
    model = ClassifierModel(_rules(args), load_classifier(folder))
    columns = text_columns(texts)
    chunks = chunks_from_spans(texts, spans, entities)
    found = AnnotationBatch(
        classify_chunks(columns["sentence"], columns["token"], chunks, None, model)
    )
    begin, end, labels = found.begin.tolist(), found.end.tolist(), found.result
    return [
        list(zip(begin[lo:hi], end[lo:hi], labels[lo:hi], strict=True))
        for lo, hi in itertools.pairwise(found.row_offsets.tolist())
    ]


def _pipeline_assertions(texts: list[str], args: argparse.Namespace) -> list[list[tuple]]:
    """(begin, end, label) of every chunk the bundled clinical pipeline asserts."""
    from sparkner import AssertionModel
    from sparkner.apps.light_pipeline import LightPipeline
    from sparkner.apps.pretrained import PretrainedPipeline

    if args.max_scope is not None or args.priority is not None:
        raise SystemExit("--max-scope and --priority apply to --chunks gold only")
    model = PretrainedPipeline("ner_clinical_pipeline").model
    assertion = model.stages[-1]
    if not isinstance(assertion, AssertionModel):
        raise SystemExit("the pipeline's last stage is not its AssertionModel")
    if args.model is not None:
        assertion.attach_files(args.model)
    assertion.setUseClassifier(args.method == "classifier")
    if args.method == "classifier" and not assertion.uses_classifier():
        raise SystemExit("the pipeline's assertion model folder has no classifier")
    rows = LightPipeline(model).fullAnnotate(texts)
    return [[(a.begin, a.end, a.result) for a in row["assertion"]] for row in rows]


if __name__ == "__main__":
    main()
