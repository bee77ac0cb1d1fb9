"""A NER recipe's settings, :class:`NerRecipe` (:func:`sparkner.training.ner.load_recipe`
reads and checks them), and what every corpus it trains on goes through: the recipe's word
vectors and its lexicon.

Both the recipe's own splits (:mod:`sparkner.training.ner`) and the further corpora of its
``heads`` (:mod:`sparkner.training.multihead`) are read with these, so that each token gets
the vector and lexicon code the pipeline gives it at inference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from sparkner.annotators.lexicon_matcher import LexiconMatcherModel
from sparkner.annotators.word_embeddings import WordEmbeddingsModel
from sparkner.training.brat import Brat
from sparkner.training.clinical import CHIA_LABELS, MACCROBAT_LABELS, NOTES_LABELS
from sparkner.training.corpora import brat_group
from sparkner.training.splits import split_keys

LABEL_MAPS: dict[str, Mapping[str, str | Callable[[str], str | None]]] = {
    "maccrobat": MACCROBAT_LABELS,
    "chia": CHIA_LABELS,
    "notes": NOTES_LABELS,
}

# The keys of a recipe's brat entry: folder and labels, optionally split and repeat.
BRAT_KEYS = {"folder", "labels", "split", "repeat"}
# How a brat folder is split: "documents" (by document or trial, with the recipe's seed and
# fractions) or "folders" (it holds train/, dev/ and maybe test/ already).
BRAT_SPLITS = ("documents", "folders")

# The column a recipe's lexicon writes.
LEXICON_COLUMN = "lexicon"


@dataclass
class NerRecipe:
    name: str
    # CoNLL / TSV files, relative to the data folder ...
    train: str = ""
    dev: str = ""
    test: str = ""
    # ... or brat folders, split by document (Chia: by trial) with split_seed / fractions:
    # [{"folder": "maccrobat", "labels": "maccrobat"}, ...]; labels name a mapping of
    # sparkner.training.clinical. An entry may add ``split: folders`` (the folder holds
    # train/ and dev/ (and test/) already, as data/clinical_notes does) and ``repeat: N``
    # (its training split is read N times: oversampling a small corpus of the target genre).
    brat: list[dict[str, Any]] = field(default_factory=list)
    # The brat folders whose dev splits pick the epoch (empty: all of them).
    select_on: list[str] = field(default_factory=list)
    # For brat folders labelled "maccrobat": one of sparkner.training.ner.SPAN_CONVENTIONS.
    span_convention: str = "clinical"
    split_seed: int = 13
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    # Bundled vectors by name, or a store folder (absolute, or under the data folder): a
    # candidate set of vectors is measured by the tagger it trains before it is bundled.
    embeddings: str = "embeddings_clinical"
    # A bundled lexicon (e.g. "lexicon_clinical") whose matches the tagger gets as per-token
    # features (NerDLApproach's optional lexicon input); empty: none.
    lexicon: str = ""
    # Section headers of unlabeled notes, added to the training split as entity-free
    # sentences: {"file": "unlabeled/mtsamples.csv.xz", "min_count": 30}.
    headers: dict[str, Any] = field(default_factory=dict)
    # Silver sentences of unlabeled text tagged by a teacher, added to the training split
    # (sparkner.training.self_training: teacher, files, min_confidence, max_sentences, seed).
    self_training: dict[str, Any] = field(default_factory=dict)
    # After model selection on dev, train again on train + dev for the kept number of epochs
    # (the test split stays unseen); the selection run's record is kept as "selection".
    refit: bool = False
    # One encoder, several heads (sparkner.training.multihead): further corpora, only their
    # training portions, each training a CRF head of its own beside this recipe's, e.g.
    # [{name: ncbi, conll: ncbi_disease/train.tsv, weight: 0.5}, {name: phee, partial: phee}].
    heads: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


def recipe_vectors(recipe: NerRecipe, data_dir: Path) -> WordEmbeddingsModel:
    """The recipe's word vectors: a store folder if ``embeddings`` names one, else bundled."""
    folder = data_dir / recipe.embeddings
    if folder.is_dir():
        return WordEmbeddingsModel().attach_files(folder)
    return WordEmbeddingsModel.pretrained(recipe.embeddings)


def with_lexicon(recipe: NerRecipe, frame: DataFrame) -> DataFrame:
    """``frame`` with the recipe's lexicon matches (column ``lexicon``), if it names one."""
    if not recipe.lexicon:
        return frame
    matcher = LexiconMatcherModel.pretrained(recipe.lexicon)
    return matcher.setInputCols(["document", "token"]).setOutputCol(LEXICON_COLUMN).transform(frame)


def brat_split_documents(
    recipe: NerRecipe, entry: dict[str, Any], data: Path, split: str
) -> tuple[Path | None, list[str]]:
    """The folder and document ids of one split of a recipe's brat folder; no folder when
    the corpus has no such split (a folder split without ``test/``)."""
    folder = data / entry["folder"]
    if not folder.is_dir():
        raise FileNotFoundError(f"{entry['folder']}: not found under the data folder {data}")
    if entry.get("split", "documents") == "folders":
        folder = folder / split
        if not folder.is_dir():
            return None, []
        return folder, [p.stem for p in sorted(folder.glob("*.txt"))]
    stems = [p.stem for p in sorted(folder.glob("*.txt"))]
    splits = split_keys((brat_group(s) for s in stems), recipe.split_seed, recipe.split_fractions)
    return folder, [s for s in stems if splits[brat_group(s)] == split]


def brat_convention(recipe: NerRecipe, entry: dict[str, str]) -> str:
    """The brat reader's span convention for one of the recipe's brat folders."""
    if entry["labels"] == "maccrobat" and recipe.span_convention == "clinical":
        return "clinical"
    return "annotated"


def brat_frame(
    spark: SparkSession, recipe: NerRecipe, entry: dict[str, Any], data: Path, split: str
) -> DataFrame | None:
    """One split of one of the recipe's brat folders as labelled columns (no vectors yet);
    None when that corpus has no such split."""
    folder, chosen = brat_split_documents(recipe, entry, data, split)
    if folder is None:
        return None
    reader = Brat(
        LABEL_MAPS[entry["labels"]],
        documents=chosen,
        span_convention=brat_convention(recipe, entry),
    )
    return reader.readDataset(spark, str(folder)).drop("id")
