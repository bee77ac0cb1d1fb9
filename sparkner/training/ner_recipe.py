"""A NER recipe's settings, :class:`NerRecipe` (:func:`sparkner.training.ner.load_recipe`
reads and checks them), and what every corpus it trains on goes through: the recipe's word
vectors and its lexicon.

Both the recipe's own splits (:mod:`sparkner.training.ner`) and the further corpora of its
``heads`` (:mod:`sparkner.training.multihead`) are read with these, so that each token gets
the vector and lexicon code the pipeline gives it at inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame

from sparkner.annotators.lexicon_matcher import LexiconMatcherModel
from sparkner.annotators.word_embeddings import WordEmbeddingsModel

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
    # sparkner.training.clinical.
    brat: list[dict[str, str]] = field(default_factory=list)
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
