"""Recipes for sparkner's NER models: ``sparkner train --config conf/ner_<name>.yaml``.

A recipe names its training and dev files (relative to the data folder), the word vectors,
and NerDLApproach's settings. The dev split is the model-selection set (``testDataset``);
the test split is only read by ``sparkner evaluate`` / ``bench/accuracy.py`` for the final
figure.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.word_embeddings import WordEmbeddingsModel
from sparkner.evaluation import Evaluation, evaluate_dataframe
from sparkner.formats import read_settings
from sparkner.training.conll import CoNLL


@dataclass
class NerRecipe:
    name: str
    train: str
    dev: str
    test: str = ""
    embeddings: str = "embeddings_clinical"
    settings: dict[str, Any] = field(default_factory=dict)


def load_recipe(path: str | os.PathLike[str]) -> NerRecipe:
    """Read a recipe (YAML, safe loader); unknown keys and settings name the file."""
    data = read_settings(path, NerRecipe)
    missing = sorted({"name", "train", "dev"} - set(data))
    if missing:
        raise ValueError(f"{path}: missing setting(s) {missing}")
    recipe = NerRecipe(**data)
    approach = NerDLApproach()
    for key in recipe.settings:
        if not approach.hasParam(key):
            raise ValueError(f"{path}: settings.{key} is not a NerDLApproach parameter")
    return recipe


def read_split(spark: SparkSession, data_dir: Path, relative: str, vectors) -> DataFrame:
    path = data_dir / relative
    if not path.is_file():
        raise FileNotFoundError(f"{relative}: not found under the data folder {data_dir}")
    return vectors.transform(CoNLL().readDataset(spark, str(path)))


def train_recipe(
    spark: SparkSession, recipe: NerRecipe, data_dir: str | os.PathLike[str]
) -> tuple[NerDLModel, float]:
    """Train the recipe's tagger; returns the model and the seconds it took."""
    data = Path(data_dir)
    vectors = WordEmbeddingsModel.pretrained(recipe.embeddings)
    train = read_split(spark, data, recipe.train, vectors).cache()
    dev = read_split(spark, data, recipe.dev, vectors).cache()
    approach = NerDLApproach().setTestDataset(dev)
    for key, value in recipe.settings.items():
        approach._set(**{key: value})
    started = time.perf_counter()
    model = approach.fit(train)
    seconds = time.perf_counter() - started
    train.unpersist()
    dev.unpersist()
    return model, seconds


def evaluate_split(
    spark: SparkSession, model: NerDLModel, recipe: NerRecipe, data_dir: str | os.PathLike[str],
    split: str,
) -> Evaluation:  # fmt: skip
    """Strict / relaxed / token figures of ``model`` on one of the recipe's splits."""
    relative = getattr(recipe, split)
    if not relative:
        raise ValueError(f"recipe {recipe.name!r} names no {split} split")
    vectors = WordEmbeddingsModel.pretrained(recipe.embeddings)
    frame = read_split(spark, Path(data_dir), relative, vectors)
    tagged = model.setOutputCol("ner").transform(frame)
    return evaluate_dataframe(tagged, "label", "ner")
