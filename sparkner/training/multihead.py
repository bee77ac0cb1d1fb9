"""Recipes with ``heads``: one shared encoder trained on the recipe's data and further corpora.

A recipe's ``heads`` lists further labelled corpora, each training a CRF head of its own over
its own tags beside the recipe's (the *primary* head) on one shared encoder
(:mod:`sparkner.ner.multihead`)::

    heads:
      - {name: ncbi, conll: ncbi_disease/train.tsv, weight: 0.5}   # fully labelled, own tags
      - {name: phee, partial: phee}                                 # partly labelled, clinical
      - {name: cases, brat: maccrobat, labels: maccrobat}           # a brat folder, its labels

Only the training portions of these corpora are read. The primary head is selected on the
recipe's dev split as a single-head tagger is, and shipped alone: an ordinary tagger folder,
so tagging costs and loads exactly as before. Every corpus goes through the same Spark stages
as the recipe's own data (the recipe's word vectors, its lexicon matcher), so each token gets
the vector and lexicon code the pipeline gives it at inference.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel, storage_ref_of
from sparkner.core.annotation import POS
from sparkner.ner.config import HEAD_NAME
from sparkner.ner.data import TrainingData
from sparkner.ner.training import EpochRecord, HeadData, HeadSpec, train_heads
from sparkner.stages.training_data import add_vocabulary, collect_sentences, collect_training_data
from sparkner.training.conll import CoNLL, conll_table, training_frame
from sparkner.training.ner_recipe import (
    BRAT_SPLITS,
    LABEL_MAPS,
    NerRecipe,
    brat_frame,
    recipe_vectors,
    with_lexicon,
)
from sparkner.training.partial import (
    PARTIAL_CORPORA,
    PROBLEM,
    TEST,
    TREATMENT,
    PartialSentence,
    partial_sentences,
)

# The tags of a partly labelled corpus's head: the clinical classes its readers map to.
PARTIAL_TAGS = ["O"] + [f"{p}-{c}" for c in (PROBLEM, TEST, TREATMENT) for p in ("B", "I")]
HEAD_KEYS = ("name", "conll", "partial", "brat", "labels", "split", "weight")
# What a head reads: a CoNLL file, a partly labelled corpus, or a brat folder's train split.
HEAD_SOURCES = ("conll", "partial", "brat")
# Words of a file path that mark an evaluation split: never trained on as a further corpus.
EVALUATION_WORDS = frozenset(
    {
        "dev",
        "devel",
        "development",
        "val",
        "valid",
        "validation",
        "test",
        "testa",
        "testb",
        "eval",
        "evaluation",
        "gold",
        "heldout",
    }
)


def primary_head(recipe: NerRecipe) -> str:
    """The name of the recipe's own head: the recipe's name where it is an identifier."""
    return recipe.name if HEAD_NAME.fullmatch(recipe.name) else "main"


def check_recipe_heads(path: str | os.PathLike[str], recipe: NerRecipe) -> None:
    """Refuse ``heads`` entries that cannot train a head, naming the recipe file and entry."""
    heads: object = recipe.heads  # as the YAML file has it: any value
    if not isinstance(heads, list):
        raise ValueError(
            f"{path}: heads must be a list of {{name, conll | partial | brat, weight}}"
        )
    if "validationSplit" in recipe.settings:
        raise ValueError(
            f"{path}: with heads, the dev split selects the model; leave settings.validationSplit"
            " out"
        )
    names = {primary_head(recipe)}
    for index, entry in enumerate(heads):
        where = f"{path}: heads[{index}] ({entry!r})"
        if not isinstance(entry, dict) or set(entry) - set(HEAD_KEYS):
            raise ValueError(f"{where}: expected a mapping of {list(HEAD_KEYS)}")
        name = entry.get("name")
        if not isinstance(name, str) or not HEAD_NAME.fullmatch(name):
            raise ValueError(f"{where}: name must be an identifier (letters, digits, _)")
        if name in names:
            raise ValueError(
                f"{where}: name {name!r} is taken (the recipe's own head is "
                f"{primary_head(recipe)!r}); head names must be distinct"
            )
        names.add(name)
        if sum(source in entry for source in HEAD_SOURCES) != 1:
            raise ValueError(
                f"{where}: name exactly one of 'conll' (a file), 'partial' or 'brat' (a folder)"
            )
        if "brat" in entry and entry.get("labels") not in LABEL_MAPS:
            raise ValueError(f"{where}: a brat head needs labels, one of {sorted(LABEL_MAPS)}")
        if entry.get("split", "documents") not in BRAT_SPLITS:
            raise ValueError(f"{where}: split is one of {list(BRAT_SPLITS)}")
        weight = entry.get("weight", 1.0)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not (weight > 0 and math.isfinite(weight))
        ):
            raise ValueError(f"{where}: weight must be a positive number")
        if "partial" in entry and entry["partial"] not in PARTIAL_CORPORA:
            raise ValueError(f"{where}: partial is one of {list(PARTIAL_CORPORA)}")
        relative = entry.get("conll")
        if "conll" in entry and (not isinstance(relative, str) or not relative):
            raise ValueError(f"{where}: conll must name a file under the data folder")
        if relative and (
            EVALUATION_WORDS & set(re.split(r"[^a-z0-9]+", relative.lower()))
            or relative in (recipe.dev, recipe.test)
        ):
            raise ValueError(
                f"{where}: {relative!r} looks like a dev or test split; a further corpus is "
                f"only ever trained on, so name its training file"
            )


def auxiliary_frames(
    spark: SparkSession, recipe: NerRecipe, data_dir: str | os.PathLike[str]
) -> list[DataFrame]:
    """The training portion of each of the recipe's ``heads``, in its order: the columns of
    ``read_split`` (the recipe's vectors, its lexicon column), cached."""
    data = Path(data_dir)
    vectors = recipe_vectors(recipe, data)
    frames = []
    for entry in recipe.heads:
        if "conll" in entry:
            path = data / entry["conll"]
            if not path.is_file():
                raise FileNotFoundError(
                    f"heads: {entry['conll']}: not found under the data folder {data}"
                )
            frame = CoNLL().readDataset(spark, str(path))
        elif "brat" in entry:
            folder = {"folder": entry["brat"], "labels": entry["labels"]}
            folder["split"] = entry.get("split", "documents")
            read = brat_frame(spark, recipe, folder, data, "train")
            if read is None:
                raise FileNotFoundError(f"heads: {entry['brat']} has no train/ folder")
            frame = read
        else:
            frame = _partial_frame(spark, partial_sentences(data, entry["partial"]))
        frames.append(with_lexicon(recipe, vectors.transform(frame)).cache())
    return frames


def _partial_frame(spark: SparkSession, sentences: Sequence[PartialSentence]) -> DataFrame:
    """Partly labelled sentences as CoNLL columns: spans as IOB2 tags, every other token O
    (unlabelled: the readers never label an O, so a token's tag is known iff it is not O)."""
    rows = []
    for sentence in sentences:
        tags = ["O"] * len(sentence.tokens)
        for first, last, kind in sentence.spans:
            tags[first : last + 1] = [f"B-{kind}"] + [f"I-{kind}"] * (last - first)
        rows.append(list(zip(sentence.tokens, tags, strict=True)))
    return training_frame(spark, conll_table([rows]), extra_types={"pos": POS})


def fit_with_heads(
    approach: NerDLApproach,
    recipe: NerRecipe,
    train: DataFrame,
    dev: DataFrame | None,
    corpora: Sequence[DataFrame],
) -> NerDLModel:
    """One training run of the shared encoder with ``approach``'s settings: the primary head
    on ``train`` (``dev``, if given, selects the epoch as ``testDataset`` does), a head per
    frame of :func:`auxiliary_frames`. Returns the primary head as a tagger."""
    # These load TensorFlow: only where a tagger is trained.
    from sparkner.ner.multihead import MultiHeadNetwork, partial_allowed
    from sparkner.ner.tagger import Tagger
    from sparkner.ner.threads import LOCAL_OPS_AT_ONCE, configure_threads

    columns = approach._check_training_columns(train.schema)
    # One vocabulary: the distinct tokens of every corpus, with the vectors Spark gave them.
    data = collect_training_data(train, columns)
    for frame in ([] if dev is None else [dev]) + list(corpora):
        add_vocabulary(data, frame, columns)
    if dev is not None:
        data.test = collect_sentences(dev, columns, data)
    primary = primary_head(recipe)
    specs = [HeadSpec(primary, list(data.tags))]
    heads = [HeadData(primary, data.train, validation=data.test)]
    for entry, frame in zip(recipe.heads, corpora, strict=True):
        partial = "partial" in entry
        tags = list(PARTIAL_TAGS) if partial else _corpus_tags(frame, columns.label)
        # Ids into the shared vocabulary and this head's tags; lexicon codes by the
        # primary data's classes (a class it never saw codes as O, as at inference).
        view = TrainingData(
            data.words,
            data.vectors,
            tags,
            None,  # type: ignore[arg-type]
            lexicon_classes=data.lexicon_classes,
        )
        sentences = collect_sentences(frame, columns, view)
        allowed = partial_allowed(sentences, sentences.tag_ids != 0, tags) if partial else None
        specs.append(HeadSpec(entry["name"], tags, partial))
        heads.append(
            HeadData(entry["name"], sentences, allowed, weight=float(entry.get("weight", 1.0)))
        )

    # Characters of the training words of every corpus.
    trained = np.concatenate([h.train.word_ids for h in heads])
    config = approach.tagger_config(data, trained, storage_ref_of(train.schema, columns.embeddings))
    log_lines: list[str] = []
    settings = approach.training_settings(log_lines, selects=data.test is not None)
    configure_threads(LOCAL_OPS_AT_ONCE)
    network = MultiHeadNetwork(config, specs, seed=settings.seed)
    records = train_heads(network, data.words, data.vectors, heads, settings, primary, Tagger)
    record: dict[str, Any] = {
        "training_sentences": len(data.train),
        "validation_sentences": 0,
        "epochs": [_epoch_record(r) for r in records],
        "heads": [_head_record(primary, heads[0], None)]
        + [_head_record(e["name"], h, e) for e, h in zip(recipe.heads, heads[1:], strict=True)],
    }
    return approach.tagger_model(network.head_network(primary), data, record, settings, log_lines)


def _corpus_tags(frame: DataFrame, label: str) -> list[str]:
    """A fully labelled corpus's tags, "O" first (as the primary's are ordered)."""
    found = {row[0] for row in frame.select(F.explode(f"{label}.result")).distinct().collect()}
    return ["O", *sorted(found - {"O", None})]


def _epoch_record(record: EpochRecord) -> dict[str, Any]:
    # The primary head's dev figures are the testDataset's, as in a single-head run.
    figures = {**record.figures(), "validation": {}, "test": record.validation}
    return {**figures, "head_loss": record.head_loss}


def _head_record(name: str, head: Any, entry: dict[str, Any] | None) -> dict[str, Any]:
    if entry is None:
        kind, source = "primary", ""
    else:
        kind = next(source for source in HEAD_SOURCES if source in entry)
        source = entry[kind]
    return {
        "name": name,
        "kind": kind,
        "source": source,
        "sentences": len(head.train),
        "weight": head.weight,
    }
