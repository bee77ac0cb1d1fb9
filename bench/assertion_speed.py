"""Time the AssertionModel's batch function, the learned classifier against the ConText rules
alone, on the same pipeline inputs.

    python bench/assertion_speed.py [--notes N] [--runs R] [--pipeline]
                                    [--data-dir ../shared/data]

The bundled ``ner_clinical_pipeline`` runs once, untimed, on ``N`` MTSamples notes up to its
chunks (in the LightPipeline's batches); then the AssertionModel's batch function (with the
classifier, and with ``useClassifier`` off: the rules alone) runs on those inputs, ``R`` timed
runs each after a warm-up run, the two interleaved so that a busy machine slows both alike.
Prints the median seconds of each (and per 1,000 chunks), then one JSON line. With
``--pipeline``, also the whole LightPipeline (``annotate_batch`` on the same notes, its
AssertionModel with and without the classifier), as many runs each, interleaved: the issue's
goal is the pipeline with the classifier at 90% or more of the speed of the rules alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench_support import DATA, load_notes, log, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=60, help="how many MTSamples notes")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each method")
    parser.add_argument(
        "--pipeline", action="store_true", help="also time the whole LightPipeline both ways"
    )
    parser.add_argument("--data-dir", type=Path, default=DATA)
    args = parser.parse_args()
    if args.notes < 1 or args.runs < 1:
        raise SystemExit("--notes and --runs must be at least 1")

    import pyarrow as pa

    from sparkner import AssertionModel
    from sparkner.apps.light_pipeline import LightPipeline
    from sparkner.apps.pretrained import PretrainedPipeline
    from sparkner.runtime.steps import annotator_stages, plan_steps
    from sparkner.runtime.udf import TEXT_BYTES_PER_CALL, regroup

    notes = load_notes(args.data_dir)[: args.notes]
    model = PretrainedPipeline("ner_clinical_pipeline").model
    assertion = model.stages[-1]
    if not isinstance(assertion, AssertionModel):
        raise SystemExit("the pipeline's last stage is not its AssertionModel")
    if not assertion.uses_classifier():
        raise SystemExit("the pipeline's assertion model folder has no classifier")
    stages, input_col = annotator_stages(model)
    *before, step = plan_steps([(s, s.batch_function()) for s in stages], input_col)
    classifier_function = step.function
    rules_stage = assertion.copy().setUseClassifier(False)
    rules_function = rules_stage.batch_function()

    log(f"running the pipeline up to the chunks on {len(notes)} notes (untimed)")
    # The LightPipeline's batches.
    batches = [b for (b,) in regroup([[pa.array(notes, pa.string())]], TEXT_BYTES_PER_CALL)]
    inputs = []
    chunks = 0
    for texts in batches:
        columns = {input_col: texts}
        for earlier in before:
            columns[earlier.output] = earlier.function(*(columns[n] for n in earlier.inputs))
        arguments = [columns[n] for n in step.inputs]
        inputs.append(arguments)
        chunks += len(arguments[2].flatten())

    def run(function) -> float:
        started = time.perf_counter()
        for arguments in inputs:
            function(*arguments)
        return time.perf_counter() - started

    for function in (classifier_function, rules_function):  # warm-up: loads, caches
        run(function)
    seconds: dict[str, list[float]] = {"classifier": [], "rules": []}
    for number in range(1, args.runs + 1):
        seconds["classifier"].append(run(classifier_function))
        seconds["rules"].append(run(rules_function))
        log(
            f"run {number}/{args.runs}: classifier {seconds['classifier'][-1]:.4f} s, "
            f"rules {seconds['rules'][-1]:.4f} s"
        )
    if args.pipeline:
        pipelines = {
            "pipeline_classifier": LightPipeline(model),
            "pipeline_rules": LightPipeline([*model.stages[:-1], rules_stage]),
        }

        def run_pipeline(pipeline: LightPipeline) -> float:
            started = time.perf_counter()
            for texts in batches:
                pipeline.annotate_batch(texts)
            return time.perf_counter() - started

        for pipeline in pipelines.values():  # warm-up
            run_pipeline(pipeline)
        for number in range(1, args.runs + 1):
            for name, pipeline in pipelines.items():
                seconds.setdefault(name, []).append(run_pipeline(pipeline))
            log(
                f"pipeline run {number}/{args.runs}: classifier "
                f"{seconds['pipeline_classifier'][-1]:.3f} s, "
                f"rules {seconds['pipeline_rules'][-1]:.3f} s"
            )
    median = {name: statistics.median(values) for name, values in seconds.items()}
    print(machine())
    print(f"{len(notes)} notes, {len(batches)} batches, {chunks} chunks; {args.runs} runs each")
    print("AssertionModel batch function, on the pipeline's inputs:")
    for name in ("classifier", "rules"):
        runs = " / ".join(f"{v:.4f}" for v in seconds[name])
        print(
            f"{name:>10}: median {median[name]:.4f} s "
            f"({1e6 * median[name] / max(chunks, 1):.1f} ms per 1,000 chunks); runs {runs}"
        )
    print(f"classifier / rules: {median['classifier'] / median['rules']:.2f}x")
    record = {
        "bench": "assertion_speed",
        "notes": len(notes),
        "chunks": chunks,
        "runs": args.runs,
        "classifier_s": round(median["classifier"], 4),
        "rules_s": round(median["rules"], 4),
        "ratio": round(median["classifier"] / median["rules"], 3),
    }
    if args.pipeline:
        print("whole LightPipeline (annotate_batch):")
        for name in ("pipeline_classifier", "pipeline_rules"):
            runs = " / ".join(f"{v:.3f}" for v in seconds[name])
            print(f"{name.removeprefix('pipeline_'):>10}: median {median[name]:.3f} s; runs {runs}")
        speed = median["pipeline_rules"] / median["pipeline_classifier"]
        print(f"speed with the classifier / with the rules: {speed:.1%} (goal: 90% or more)")
        record |= {
            "pipeline_classifier_s": round(median["pipeline_classifier"], 3),
            "pipeline_rules_s": round(median["pipeline_rules"], 3),
            "pipeline_speed": round(speed, 3),
        }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
