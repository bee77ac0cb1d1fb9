"""The recipe for the learned assertion classifier of ``assertion_clinical``
(:mod:`sparkner.assertion.classifier`):

    python -m sparkner.training.assertion_classifier --config conf/assertion_clinical.yaml \\
        --data ../shared/data --output sparkner/resources/assertion_clinical [--select]

Training data: the gold mentions of the annotated clinical notes' ``train/`` split with their
assertions (``clinical_notes``), and, weighted by ``maccrobat_weight`` (0: left out), the
MACCROBAT training split's polarity (present / absent / possible; the NER recipe's split of
the documents, seed 13, clinical spans). Each mention is a chunk with its entity type, over
sparkner's own sentences and tokens (the text stages' batch functions, no Spark), so the
features are those the stage computes in a pipeline.

``--select`` first trains one classifier per point of the config's ``grid`` (every
combination of the values listed there) and scores each on the notes' ``dev/`` split and
MACCROBAT's dev split, then keeps the point with the best selection score (the mean of the
F1 of the labels in ``select_labels`` on the notes' dev split, plus MACCROBAT dev's absent F1
weighted by ``maccrobat_select_weight``). Test splits are never read here; dev is never
trained on. The output folder gets the classifier files (beside the rules it reads, which
are copied there if the folder has none) and the training record in the JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sparkner.assertion.classifier import (
    AssertionClassifier,
    ClassifierModel,
    FeatureSettings,
    TrainingSettings,
    chunk_feature_rows,
    classify_chunks,
    save_classifier,
    train_classifier,
)
from sparkner.assertion.context import RULES_FILE, ContextRules, bundled_rules, load_rules
from sparkner.assertion.scoring import AssertionScores, score_assertions
from sparkner.core.annotation import AnnotationBatch
from sparkner.core.formats import read_settings
from sparkner.resources import bundled_folder
from sparkner.training.assertion_gold import GoldDocument, read_notes, read_split
from sparkner.training.assertion_spans import chunks_from_spans, text_columns

# The labels whose mean F1 on the notes' dev split selects (present is nearly always right).
SELECT_LABELS = ("absent", "possible", "hypothetical")


@dataclass
class AssertionRecipe:
    """The settings of the recipe (conf/assertion_clinical.yaml)."""

    name: str = "assertion_clinical"
    # Folders under the data folder.
    notes: str = "clinical_notes"
    maccrobat: str = "maccrobat"
    # How much a MACCROBAT chunk weighs beside a note's (0: MACCROBAT is not trained on).
    maccrobat_weight: float = 0.0
    # The bundled rules the features read (a rules folder under the data folder, or empty).
    rules: str = ""
    window: int = 6
    pairs: bool = True
    words_with_type: bool = True
    trigger_scope: int = 30
    sentence_words: bool = True
    l2: float = 1e-3
    class_weight_power: float = 0.0
    iterations: int = 300
    min_count: int = 1
    # --select: lists of values of the settings above; every combination is tried.
    grid: dict[str, list[Any]] = field(default_factory=dict)
    select_labels: list[str] = field(default_factory=lambda: list(SELECT_LABELS))
    maccrobat_select_weight: float = 0.5

    def features(self) -> FeatureSettings:
        return FeatureSettings(
            self.window, self.pairs, self.words_with_type, self.trigger_scope, self.sentence_words
        )

    def training(self) -> TrainingSettings:
        return TrainingSettings(self.l2, self.class_weight_power, self.iterations, self.min_count)


def load_recipe(path: str | Path) -> AssertionRecipe:
    """The recipe of a YAML file; unknown settings and grid keys are refused."""
    recipe = AssertionRecipe(**read_settings(path, AssertionRecipe))
    known = {f.name for f in fields(AssertionRecipe)} - {"grid", "name", "notes", "maccrobat"}
    unknown = sorted(set(recipe.grid) - known)
    if unknown:
        raise ValueError(f"{path}: unknown grid setting(s) {unknown}; known: {sorted(known)}")
    return recipe


@dataclass
class Corpus:
    """Gold documents as chunks: the text stages' columns, the chunk column, and each
    chunk's gold label (flat, in the chunks' order)."""

    documents: list[GoldDocument]
    sentences: pa.Array
    tokens: pa.Array
    chunks: pa.Array
    labels: list[str]

    @classmethod
    def of(cls, documents: list[GoldDocument]) -> Corpus:
        texts = [d.text for d in documents]
        columns = text_columns(texts)
        spans = [[(b, e) for b, e, _ in d.mentions] for d in documents]
        chunks = chunks_from_spans(texts, spans, [list(d.entities) for d in documents])
        labels = [label for d in documents for *_, label in d.mentions]
        return cls(documents, columns["sentence"], columns["token"], chunks, labels)

    def features(
        self, rules: ContextRules, settings: FeatureSettings
    ) -> tuple[np.ndarray, np.ndarray]:
        return chunk_feature_rows(self.sentences, self.tokens, self.chunks, rules, settings)

    def score(self, rules: ContextRules, classifier: AssertionClassifier) -> AssertionScores:
        found = AnnotationBatch(
            classify_chunks(
                self.sentences, self.tokens, self.chunks, None, ClassifierModel(rules, classifier)
            )
        )
        begin, end, labels = found.begin.tolist(), found.end.tolist(), found.result
        offsets = found.row_offsets.tolist()
        predicted = [
            list(zip(begin[lo:hi], end[lo:hi], labels[lo:hi], strict=True))
            for lo, hi in itertools.pairwise(offsets)
        ]
        return score_assertions([list(d.mentions) for d in self.documents], predicted)


@dataclass
class Corpora:
    notes_train: Corpus
    notes_dev: Corpus
    maccrobat_train: Corpus
    maccrobat_dev: Corpus


def read_corpora(recipe: AssertionRecipe, data: Path) -> Corpora:
    """The training and dev splits of both corpora (no test split is read)."""
    notes, maccrobat = data / recipe.notes, data / recipe.maccrobat
    return Corpora(
        Corpus.of(read_notes(notes, "train")),
        Corpus.of(read_notes(notes, "dev")),
        Corpus.of(read_split(maccrobat, "train", span_convention="clinical")),
        Corpus.of(read_split(maccrobat, "dev", span_convention="clinical")),
    )


def recipe_rules(recipe: AssertionRecipe, data: Path) -> tuple[ContextRules, Path]:
    """The rules the features read, and the folder of their file."""
    if recipe.rules:
        return load_rules(data / recipe.rules), data / recipe.rules
    return bundled_rules(), bundled_folder("assertion_clinical", RULES_FILE, "assertion rules")


def train(
    recipe: AssertionRecipe, corpora: Corpora, rules: ContextRules, cache: dict | None = None
) -> AssertionClassifier:
    """A classifier trained on the notes' training split (and MACCROBAT's, if weighted)."""
    cache = {} if cache is None else cache
    settings = recipe.features()

    def features(name: str, corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
        key = (name, settings)
        if key not in cache:
            cache[key] = corpus.features(rules, settings)
        return cache[key]

    offsets, keys = features("notes", corpora.notes_train)
    labels = list(corpora.notes_train.labels)
    weights = [1.0] * len(labels)
    if recipe.maccrobat_weight > 0:
        more_offsets, more_keys = features("maccrobat", corpora.maccrobat_train)
        offsets = np.concatenate([offsets, more_offsets[1:] + offsets[-1]])
        keys = np.concatenate([keys, more_keys])
        labels += corpora.maccrobat_train.labels
        weights += [recipe.maccrobat_weight] * len(corpora.maccrobat_train.labels)
    rows = (offsets, keys)
    return train_classifier(rows, labels, settings, recipe.training(), weights)


def dev_figures(
    recipe: AssertionRecipe, corpora: Corpora, rules: ContextRules, classifier: AssertionClassifier
) -> dict[str, Any]:
    """Per-label F1 and accuracy on both dev splits, and the selection score."""
    figures: dict[str, Any] = {}
    for name, corpus in (
        ("notes_dev", corpora.notes_dev),
        ("maccrobat_dev", corpora.maccrobat_dev),
    ):
        scores = corpus.score(rules, classifier)
        figures[name] = {
            "accuracy": round(scores.accuracy, 4),
            **{f"{k}_f1": round(v.f1, 4) for k, v in sorted(scores.by_label().items())},
        }
    notes = figures["notes_dev"]
    selected = [notes.get(f"{label}_f1", 0.0) for label in recipe.select_labels]
    figures["selection_score"] = round(
        sum(selected) / len(selected)
        + recipe.maccrobat_select_weight * figures["maccrobat_dev"].get("absent_f1", 0.0),
        4,
    )
    return figures


def grid_points(recipe: AssertionRecipe) -> list[AssertionRecipe]:
    """The recipe at every combination of its grid's values (itself if there is no grid)."""
    names = sorted(recipe.grid)
    return [
        replace(recipe, **dict(zip(names, values, strict=True)))
        for values in itertools.product(*(recipe.grid[n] for n in names))
    ] or [recipe]


def select(
    recipe: AssertionRecipe, corpora: Corpora, rules: ContextRules, log: Any = print
) -> tuple[AssertionRecipe, list[dict[str, Any]]]:
    """The grid point with the best selection score on dev, and every point's figures."""
    cache: dict = {}
    trials = []
    best: tuple[float, AssertionRecipe] | None = None
    for point in grid_points(recipe):
        started = time.perf_counter()
        figures = dev_figures(point, corpora, rules, train(point, corpora, rules, cache))
        setting = {n: getattr(point, n) for n in sorted(recipe.grid)}
        trials.append({"settings": setting, **figures})
        log(json.dumps({**trials[-1], "seconds": round(time.perf_counter() - started, 1)}))
        if best is None or figures["selection_score"] > best[0]:
            best = (figures["selection_score"], point)
    assert best is not None
    return best[1], trials


def build(
    recipe: AssertionRecipe, data: Path, output: Path, run_selection: bool, log: Any = print
) -> AssertionClassifier:
    """Train (after selection, if asked) and write the classifier into ``output``."""
    started = time.perf_counter()
    rules, rules_folder = recipe_rules(recipe, data)
    corpora = read_corpora(recipe, data)
    trials: list[dict[str, Any]] = []
    if run_selection and recipe.grid:
        recipe, trials = select(recipe, corpora, rules, log)
    classifier = train(recipe, corpora, rules)
    figures = dev_figures(recipe, corpora, rules, classifier)
    chosen = {k: v for k, v in asdict(recipe).items() if k not in ("grid",)}
    record = {
        "recipe": chosen,
        "training_chunks": {
            "clinical_notes/train": len(corpora.notes_train.labels),
            "maccrobat/train": len(corpora.maccrobat_train.labels)
            if recipe.maccrobat_weight
            else 0,
        },
        "features": len(classifier.keys),
        "dev": figures,
        "selection": trials,
        "seconds": round(time.perf_counter() - started, 1),
    }
    classifier = replace(classifier, record=record)
    output.mkdir(parents=True, exist_ok=True)
    if not (output / RULES_FILE).is_file():
        shutil.copyfile(rules_folder / RULES_FILE, output / RULES_FILE)
    save_classifier(classifier, output)
    return classifier


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the learned assertion classifier.")
    parser.add_argument("--config", required=True, help="e.g. conf/assertion_clinical.yaml")
    parser.add_argument("--data", required=True, help="the shared data folder")
    parser.add_argument("--output", required=True, help="the model folder to write into")
    parser.add_argument(
        "--select", action="store_true", help="pick the settings on dev from the config's grid"
    )
    args = parser.parse_args(argv)
    classifier = build(load_recipe(args.config), Path(args.data), Path(args.output), args.select)
    record = classifier.record
    print(
        json.dumps(
            {"recipe": record["recipe"], "dev": record["dev"], "features": record["features"]}
        )
    )


if __name__ == "__main__":
    main()
