"""Recipes for sparkner's NER models: ``sparkner train --config conf/ner_<name>.yaml``.

A recipe names its training and dev files (relative to the data folder), the word vectors,
and NerDLApproach's settings. The dev split is the model-selection set (``testDataset``);
the test split is only read by ``sparkner evaluate`` / ``bench/accuracy.py`` for the final
figure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.word_embeddings import WordEmbeddingsModel
from sparkner.core.formats import read_settings
from sparkner.evaluation import Evaluation, evaluate_dataframe
from sparkner.lexicon.store import HEADER_FILE
from sparkner.ner.config import add_to_record
from sparkner.resources import bundled_folder
from sparkner.training.brat import AlignmentReport, labelled_table
from sparkner.training.clinical import section_headers
from sparkner.training.conll import CoNLL, training_frame
from sparkner.training.corpora import mtsamples_texts
from sparkner.training.multihead import auxiliary_frames, check_recipe_heads, fit_with_heads
from sparkner.training.ner_recipe import (
    BRAT_KEYS,
    BRAT_SPLITS,
    LABEL_MAPS,
    LEXICON_COLUMN,
    NerRecipe,
    brat_frame,
    recipe_vectors,
    with_lexicon,
)
from sparkner.training.self_training import (
    SelfTrainingSettings,
    silver_sentences,
    teacher_pipeline,
    unlabeled_texts,
    without_copies,
)

# The tagger's inputs that read the column a recipe's lexicon writes.
LEXICON_INPUT_COLS = ["sentence", "token", "embeddings", LEXICON_COLUMN]

# How MACCROBAT's spans are read: "clinical" extends heads by their modifiers as the 2010
# i2b2/VA guidelines mark concepts ("chronic cough"; sparkner.training.clinical_spans),
# "maccrobat" keeps the heads as annotated ("cough"). Chia keeps its own spans either way.
SPAN_CONVENTIONS = ("clinical", "maccrobat")


def load_recipe(path: str | os.PathLike[str]) -> NerRecipe:
    """Read a recipe (YAML, safe loader); unknown keys and settings name the file."""
    data = read_settings(path, NerRecipe)
    if "name" not in data:
        raise ValueError(f"{path}: missing setting 'name'")
    if "split_fractions" in data:
        data["split_fractions"] = tuple(data["split_fractions"])
    recipe = NerRecipe(**data)
    if not recipe.brat and not (recipe.train and recipe.dev):
        raise ValueError(f"{path}: name 'train' and 'dev' files, or 'brat' folders")
    if recipe.headers and set(recipe.headers) - {"file", "min_count"}:
        raise ValueError(f"{path}: headers takes 'file' and 'min_count', got {recipe.headers}")
    for corpus in recipe.brat:
        if (
            not {"folder", "labels"} <= set(corpus) <= BRAT_KEYS
            or corpus["labels"] not in LABEL_MAPS
        ):
            raise ValueError(
                f"{path}: each brat entry needs 'folder' and 'labels' (one of "
                f"{sorted(LABEL_MAPS)}) and may have 'split' and 'repeat', got {corpus}"
            )
        if corpus.get("split", "documents") not in BRAT_SPLITS:
            raise ValueError(f"{path}: brat split is one of {list(BRAT_SPLITS)}, got {corpus}")
        repeat = corpus.get("repeat", 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise ValueError(f"{path}: brat repeat is a whole number >= 1, got {corpus}")
    folders = [corpus["folder"] for corpus in recipe.brat]
    if set(recipe.select_on) - set(folders):
        raise ValueError(
            f"{path}: select_on names brat folders of the recipe ({folders}), "
            f"got {recipe.select_on}"
        )
    if recipe.span_convention not in SPAN_CONVENTIONS:
        raise ValueError(
            f"{path}: span_convention is one of {list(SPAN_CONVENTIONS)}, "
            f"got {recipe.span_convention!r}"
        )
    approach = NerDLApproach()
    for key in recipe.settings:
        if not approach.hasParam(key):
            raise ValueError(f"{path}: settings.{key} is not a NerDLApproach parameter")
    if recipe.lexicon:
        try:
            bundled_folder(recipe.lexicon, HEADER_FILE, "lexicon")
        except ValueError as exc:
            raise ValueError(f"{path}: lexicon: {exc}") from None
        if "inputCols" in recipe.settings:
            raise ValueError(
                f"{path}: with a lexicon, the recipe sets inputCols itself "
                f"({LEXICON_INPUT_COLS}); leave settings.inputCols out"
            )
    if recipe.heads:
        check_recipe_heads(path, recipe)
    return recipe


def read_split(
    spark: SparkSession,
    recipe: NerRecipe,
    data_dir: str | os.PathLike[str],
    split: str,
    corpus: str | None = None,
    selection: bool = False,
) -> DataFrame:
    """One split of the recipe's data with word vectors, as NerDLApproach reads it: of one
    brat ``corpus``, or of all (the training split with each corpus ``repeat`` times), or
    with ``selection`` of the recipe's ``select_on`` corpora."""
    data = Path(data_dir)
    vectors = recipe_vectors(recipe, data)
    if not recipe.brat:
        relative = getattr(recipe, split)
        if not relative:
            raise ValueError(f"recipe {recipe.name!r} names no {split} split")
        path = data / relative
        if not path.is_file():
            raise FileNotFoundError(f"{relative}: not found under the data folder {data}")
        return with_lexicon(recipe, vectors.transform(CoNLL().readDataset(spark, str(path))))
    frames = []
    known = [entry["folder"] for entry in recipe.brat]
    if corpus is not None and corpus not in known:
        raise ValueError(f"recipe {recipe.name!r} has no brat folder {corpus!r}")
    for entry in recipe.brat:
        if corpus is not None and entry["folder"] != corpus:
            continue
        if selection and recipe.select_on and entry["folder"] not in recipe.select_on:
            continue
        frame = brat_frame(spark, recipe, entry, data, split)
        if frame is None:
            continue
        repeat = entry.get("repeat", 1) if split == "train" and corpus is None else 1
        frames += [frame] * repeat
    if not frames:
        raise ValueError(f"recipe {recipe.name!r} has no {split} split in {corpus or known}")
    if recipe.headers and split == "train" and corpus is None:
        frames.append(_header_sentences(spark, recipe, data))
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other)
    return with_lexicon(recipe, vectors.transform(frame))


def _header_sentences(spark: SparkSession, recipe: NerRecipe, data: Path) -> DataFrame:
    path = data / recipe.headers["file"]
    if not path.is_file():
        raise FileNotFoundError(f"headers: {recipe.headers['file']} not found under {data}")
    headers = section_headers(mtsamples_texts(path), int(recipe.headers.get("min_count", 30)))
    table = labelled_table(
        [f"header-{i}" for i in range(len(headers))],
        headers,
        [[] for _ in headers],
        AlignmentReport(),
    )
    return training_frame(spark, table).drop("id")


def training_split(
    spark: SparkSession, recipe: NerRecipe, data_dir: str | os.PathLike[str]
) -> tuple[DataFrame, dict[str, Any]]:
    """The recipe's training split as NerDLApproach reads it, with its ``self_training``
    sentences if it names a teacher, and what self-training added (empty without)."""
    train = read_split(spark, recipe, data_dir, "train")
    if not recipe.self_training:
        return train, {}
    data = Path(data_dir)
    vectors = recipe_vectors(recipe, data)
    silver, report = _silver_sentences(spark, recipe, data, vectors)
    return train.unionByName(with_lexicon(recipe, vectors.transform(silver))), report


def _silver_sentences(
    spark: SparkSession, recipe: NerRecipe, data: Path, vectors: WordEmbeddingsModel
) -> tuple[DataFrame, dict[str, Any]]:
    settings = SelfTrainingSettings.of(recipe.self_training)
    teacher = data / settings.teacher
    if not (teacher / "tagger.json").is_file():
        raise FileNotFoundError(f"self_training: teacher {settings.teacher} is not a tagger folder")
    paths = [data / f for f in settings.files]
    for relative, path in zip(settings.files, paths, strict=True):
        if not path.is_file():
            raise FileNotFoundError(f"self_training: {relative} not found under {data}")
    texts: Iterable[str] = (text for path in paths for text in unlabeled_texts(path))
    if settings.exclude:
        excluded = []
        for relative in settings.exclude:
            if not (data / relative).is_dir():
                raise FileNotFoundError(f"self_training: exclude {relative} not found under {data}")
            excluded += [p.read_text(encoding="utf-8") for p in (data / relative).rglob("*.txt")]
        texts = without_copies(texts, excluded)
    teacher_model = teacher_pipeline(str(teacher), vectors, recipe.lexicon)
    silver = silver_sentences(texts, teacher_model, settings)
    ids = [f"silver-{i}" for i in range(len(silver.sentences))]
    table = labelled_table(ids, silver.sentences, silver.entities, AlignmentReport())
    report = {
        "teacher": settings.teacher,
        "min_confidence": settings.min_confidence,
        "sentences_tagged": silver.tagged,
        "confident": silver.confident,
        "added": len(silver.sentences),
    }
    return training_frame(spark, table).drop("id"), report


def train_recipe(
    spark: SparkSession, recipe: NerRecipe, data_dir: str | os.PathLike[str]
) -> tuple[NerDLModel, float]:
    """Train the recipe's tagger (dev split as testDataset); returns it and the seconds."""
    train, self_training = training_split(spark, recipe, data_dir)
    train = train.cache()
    dev = read_split(spark, recipe, data_dir, "dev", selection=True).cache()
    corpora = []
    if recipe.heads:
        corpora = auxiliary_frames(spark, recipe, data_dir)
    started = time.perf_counter()
    model = _fit(recipe, _approach(recipe), train, dev, corpora)
    if recipe.refit:
        selection = model.training_record()
        epochs = kept_epoch(selection)
        refit = _approach(recipe).setMaxEpochs(epochs).setUseBestModel(False).setPatience(0)
        # Every corpus's dev split joins the refit, not only those that picked the epoch.
        everything = train.unionByName(read_split(spark, recipe, data_dir, "dev"))
        model = _fit(recipe, refit, everything, None, corpora)
        add_to_record(model.files_folder(), selection=selection, refit_epochs=epochs)
    if recipe.lexicon:
        # Named for users who build the pipeline themselves (NerDLModel's input check).
        add_to_record(model.files_folder(), lexicon=recipe.lexicon)
    if self_training:
        add_to_record(model.files_folder(), self_training=self_training)
    seconds = time.perf_counter() - started
    for frame in (train, dev, *corpora):
        frame.unpersist()
    return model, seconds


def _fit(
    recipe: NerRecipe,
    approach: NerDLApproach,
    train: DataFrame,
    dev: DataFrame | None,
    corpora: list[DataFrame],
) -> NerDLModel:
    """One training run: the approach itself, or with ``heads`` the shared encoder."""
    if recipe.heads:
        return fit_with_heads(approach, recipe, train, dev, corpora)
    if dev is not None:
        approach.setTestDataset(dev)
    return approach.fit(train)


def _approach(recipe: NerRecipe) -> NerDLApproach:
    approach = NerDLApproach()
    if recipe.lexicon:
        approach.setInputCols(LEXICON_INPUT_COLS)
    for key, value in recipe.settings.items():
        approach._set(**{key: value})
    return approach


def kept_epoch(record: dict[str, Any]) -> int:
    """The epoch model selection kept: the first with the best dev (testDataset) F1."""
    scores = [epoch["test"]["f1"] for epoch in record["epochs"]]
    return scores.index(max(scores)) + 1


def dev_figures(record: dict[str, Any]) -> dict[str, Any]:
    """The dev split's figures of the kept model (of the selection run, for a refit model)."""
    return record.get("selection", record)["test"]


def evaluate_split(
    spark: SparkSession,
    model: NerDLModel,
    recipe: NerRecipe,
    data_dir: str | os.PathLike[str],
    split: str,
    corpus: str | None = None,
) -> Evaluation:
    """Strict / relaxed / token figures of ``model`` on one split (of one brat corpus)."""
    frame = read_split(spark, recipe, data_dir, split, corpus)
    tagged = model.setOutputCol("ner").transform(frame)
    return evaluate_dataframe(tagged, "label", "ner")
