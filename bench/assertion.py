"""Score the ConText assertion rules on MACCROBAT gold spans.

    python bench/assertion.py [--split dev|test] [--data-dir ../shared/data]
                              [--max-scope N] [--priority default|nearest]
                              [--chunks gold|pipeline]

With ``--chunks pipeline`` the chunks are those of the bundled ``ner_clinical_pipeline``
(its tagger, then its AssertionModel, in the LightPipeline), and only chunks whose span
matches a gold mention exactly are scored. Otherwise (``gold``) every gold mention
(Sign_symptom, Disease_disorder, Diagnostic_procedure, Medication,
Therapeutic_procedure) is a chunk, with its entity class (PROBLEM, TEST, TREATMENT) as its
``entity`` metadata (the bundled rules leave TEST chunks present); sentences and tokens are
sparkner's own (the pure batch functions of DocumentAssembler, SentenceDetector and
Tokenizer, no Spark). Gold labels:
POLARITY NEG -> absent, UNCERTAIN / MAYBE_POS / MAYBE_NEG -> possible, none -> present
(sparkner.training.assertion_gold). The documents of each split are the NER recipe's.
Tune on dev; the test split is for the final figure. Prints per-label precision, recall,
F1 and the accuracy, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench_support import DATA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=["train", "dev", "test"])
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
        help="gold spans in the clinical convention (as ner_clinical's chunks "
        "since version 4) or MACCROBAT's own",
    )
    args = parser.parse_args()

    from sparkner.assertion import bundled_rules, score_assertions
    from sparkner.assertion.context import DEFAULT_PRIORITY
    from sparkner.training.assertion_gold import read_split
    from sparkner.training.assertion_spans import assert_spans

    rules = bundled_rules()
    if args.priority is not None:
        rules = rules.with_settings(
            priority=None if args.priority == "nearest" else DEFAULT_PRIORITY
        )
    if args.max_scope is not None:
        rules = rules.with_settings(max_scope=args.max_scope)
    documents = read_split(args.data_dir / "maccrobat", args.split, span_convention=args.spans)
    gold = [list(d.mentions) for d in documents]
    started = time.perf_counter()
    if args.chunks == "pipeline":
        predicted = _pipeline_assertions([d.text for d in documents], args)
    else:
        # Each chunk carries its entity class (PROBLEM, TEST, TREATMENT), as the NER's would.
        predicted = assert_spans(
            [d.text for d in documents],
            [[(b, e) for b, e, _ in m] for m in gold],
            rules,
            [list(d.entities) for d in documents],
        )
    seconds = time.perf_counter() - started
    scores = score_assertions(gold, predicted)
    priority = "nearest" if rules.priority is None else ">".join(rules.priority)
    print(
        f"MACCROBAT {args.split}, {args.spans} spans, {args.chunks} chunks: "
        f"{len(documents)} documents, "
        f"{scores.total} gold mentions scored; "
        f"max_scope {rules.max_scope} (backward {rules.max_scope_backward}), "
        f"priority {priority}, unasserted {list(rules.unasserted_entities)}"
    )
    print(scores.table())
    by_label = scores.by_label()
    print(
        json.dumps(
            {
                "bench": "assertion",
                "split": args.split,
                "chunks": args.chunks,
                "spans": args.spans,
                "documents": len(documents),
                "mentions": scores.total,
                "max_scope": rules.max_scope,
                "max_scope_backward": rules.max_scope_backward,
                "priority": priority,
                "accuracy": round(scores.accuracy, 4),
                **{f"{k}_f1": round(v.f1, 4) for k, v in sorted(by_label.items())},
                "seconds": round(seconds, 3),
            }
        )
    )


def _pipeline_assertions(texts: list[str], args: argparse.Namespace) -> list[list[tuple]]:
    """(begin, end, label) of every chunk the bundled clinical pipeline asserts."""
    from sparkner.apps.pretrained import PretrainedPipeline

    if args.max_scope is not None or args.priority is not None:
        raise SystemExit("--max-scope and --priority apply to --chunks gold only")
    rows = PretrainedPipeline("ner_clinical_pipeline").fullAnnotate(texts)
    return [[(a.begin, a.end, a.result) for a in row["assertion"]] for row in rows]


if __name__ == "__main__":
    main()
