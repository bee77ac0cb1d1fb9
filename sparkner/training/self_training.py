"""Self-training: unlabeled clinical sentences, tagged by a teacher tagger, as silver training data.

A teacher (a tagger folder) tags the sentences of unlabeled notes; a sentence is kept when the
teacher finds at least one entity in it and is sure of every token (each token's tag has at
least ``min_confidence``), and its chunks become the sentence's entities. A recipe adds up to
``max_sentences`` of them (a seeded sample) to its training split:

    self_training:
      teacher: /path/to/tagger        # trained on the recipe's TRAIN split only (refit: false),
                                      # so that dev, which picks the epoch, stays unseen
      files: [unlabeled/mtsamples.csv.xz, unlabeled/codiesp_en_cases.txt.xz]
      min_confidence: 0.95
      max_sentences: 5000
      seed: 13
      exclude: [clinical_notes]       # folders of notes (their .txt, in any subfolder) whose
                                      # texts and near-copies (half their 8-word runs shared)
                                      # are left out: MTSamples holds the annotated notes, and
                                      # copies of them under other specialties

The teacher and files are paths under the data folder (or absolute). The student's training
record says what the round added (``self_training``: sentences tagged, confident, added).
The unlabeled files were checked against every dev and test split (``../shared/data``).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, pairwise
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sparkner.core.annotation import AnnotationBatch
from sparkner.training.brat import Entity
from sparkner.training.corpora import line_texts, mtsamples_texts

# Texts tagged per call of the teacher's LightPipeline.
_TEXTS_PER_CALL = 64


@dataclass(frozen=True)
class SelfTrainingSettings:
    """A recipe's ``self_training`` mapping, checked."""

    teacher: str
    files: tuple[str, ...]
    min_confidence: float = 0.95
    max_sentences: int = 5000
    seed: int = 13
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: dict[str, Any]) -> SelfTrainingSettings:
        known = {"teacher", "files", "min_confidence", "max_sentences", "seed", "exclude"}
        unknown = sorted(set(settings) - known)
        if unknown or "teacher" not in settings or not settings.get("files"):
            raise ValueError(
                f"self_training: needs teacher (a tagger folder) and files (unlabeled texts); "
                f"known keys {sorted(known)}, unknown {unknown}"
            )
        made = cls(
            teacher=str(settings["teacher"]),
            files=tuple(settings["files"]),
            min_confidence=float(settings.get("min_confidence", 0.95)),
            max_sentences=int(settings.get("max_sentences", 5000)),
            seed=int(settings.get("seed", 13)),
            exclude=tuple(settings.get("exclude", ())),
        )
        if not 0.0 <= made.min_confidence <= 1.0:
            raise ValueError(
                f"self_training: min_confidence must be in [0, 1], got {made.min_confidence}"
            )
        if made.max_sentences < 1:
            raise ValueError(
                f"self_training: max_sentences must be at least 1, got {made.max_sentences}"
            )
        return made


def unlabeled_texts(path: Path) -> Iterator[str]:
    """The texts of an unlabeled file: MTSamples' CSV, or one text per line."""
    name = path.name.lower()
    return mtsamples_texts(path) if ".csv" in name else line_texts(path)


# Texts sharing this many words in a row with an excluded note count as copies of it.
SHINGLE_WORDS = 8


def shingles(text: str) -> set[tuple[str, ...]]:
    """The text's runs of :data:`SHINGLE_WORDS` lowercase words (punctuation dropped)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


# A text is a copy of an excluded note when this share of the shorter one's word runs are in
# both: MTSamples files one report under several specialties, sometimes lightly edited, while
# unrelated notes share only boilerplate runs ("was brought to the operating room and").
COPY_SHARE = 0.5


def without_copies(texts: Iterable[str], excluded: Iterable[str]) -> Iterator[str]:
    """``texts`` less copies and near-copies of any of ``excluded`` (the annotated notes,
    whose dev split must stay unseen)."""
    notes: dict[tuple[str, ...], list[int]] = {}
    sizes: list[int] = []
    for number, text in enumerate(excluded):
        runs = shingles(text)
        sizes.append(len(runs))
        for run in runs:
            notes.setdefault(run, []).append(number)
    for text in texts:
        runs = shingles(text)
        shared = Counter(n for run in runs for n in notes.get(run, ()))
        if not any(
            count >= COPY_SHARE * max(1, min(len(runs), sizes[n])) for n, count in shared.items()
        ):
            yield text


def confident_sentences(
    columns: dict[str, Any], min_confidence: float
) -> Iterator[tuple[str, list[Entity]]]:
    """``(sentence text, its entities with offsets into it)`` for each sentence of a tagged
    batch (the teacher's ``sentence``, ``ner`` with confidences and ``ner_chunk`` columns) in
    which the teacher found an entity and gave every token's tag at least
    ``min_confidence``."""
    sentences, tags = AnnotationBatch(columns["sentence"]), AnnotationBatch(columns["ner"])
    chunks = AnnotationBatch(columns["ner_chunk"])
    confidence = tags.metadata("confidence").to_pylist()
    scores = np.array([np.nan if c is None else float(c) for c in confidence], dtype=float)
    # The least sure token of each (row, sentence): tags come grouped by sentence.
    offsets, tag_rows, tag_ids = (
        tags.sentence_offsets(),
        tags.row_of(),
        tags.int_metadata("sentence"),
    )
    least_sure = {
        (int(tag_rows[lo]), int(tag_ids[lo])): float(np.min(scores[lo:hi]))
        for lo, hi in pairwise(offsets)
        if hi > lo
    }  # NaN (a tag without a confidence) is never sure enough
    found: dict[tuple[int, int], list[int]] = {}
    for c, key in enumerate(
        zip(chunks.row_of().tolist(), chunks.int_metadata("sentence").tolist(), strict=True)
    ):
        found.setdefault(key, []).append(c)
    entity_types = chunks.metadata("entity").to_pylist()
    rows, ids = sentences.row_of().tolist(), sentences.int_metadata("sentence").tolist()
    for s, key in enumerate(zip(rows, ids, strict=True)):
        if key not in found or not least_sure.get(key, 0.0) >= min_confidence:
            continue
        begin = int(sentences.begin[s])
        entities = [
            Entity(entity_types[c], int(chunks.begin[c]) - begin, int(chunks.end[c]) + 1 - begin)
            for c in found[key]
        ]
        yield sentences.result[s], entities


class SilverSentences(NamedTuple):
    """What a teacher's pass over unlabeled text gave: the kept sentences and their entities,
    and how many sentences it tagged and was sure of."""

    sentences: list[str]
    entities: list[list[Entity]]
    tagged: int
    confident: int


def silver_sentences(
    texts: Iterable[str], teacher: Any, settings: SelfTrainingSettings
) -> SilverSentences:
    """Up to ``settings.max_sentences`` confident sentences of ``texts`` (a seeded sample of
    all of them) with the entities ``teacher`` (a LightPipeline writing ``sentence``,
    ``ner`` with confidences and ``ner_chunk``) found in them."""
    kept: list[tuple[str, list[Entity]]] = []
    tagged = 0
    iterator = iter(texts)
    while batch := list(islice(iterator, _TEXTS_PER_CALL)):
        columns = teacher.annotate_batch(batch)
        tagged += len(AnnotationBatch(columns["sentence"]))
        kept += confident_sentences(columns, settings.min_confidence)
    confident = len(kept)
    random.Random(settings.seed).shuffle(kept)
    kept = kept[: settings.max_sentences]
    return SilverSentences(
        [text for text, _ in kept], [entities for _, entities in kept], tagged, confident
    )


def teacher_pipeline(tagger_folder: str, vectors: Any, lexicon: str = "") -> Any:
    """The teacher's LightPipeline: the text stages, ``vectors``, the tagger in
    ``tagger_folder`` (with confidences) and a converter; for a tagger trained with lexicon
    features also the bundled ``lexicon`` (default: the one the tagger's record names)."""
    from sparkner.annotators.document_assembler import DocumentAssembler
    from sparkner.annotators.lexicon_matcher import LexiconMatcherModel
    from sparkner.annotators.ner_converter import NerConverter
    from sparkner.annotators.ner_dl import NerDLModel
    from sparkner.annotators.sentence_detector import SentenceDetector
    from sparkner.annotators.tokenizer import Tokenizer
    from sparkner.apps.light_pipeline import LightPipeline

    tagger = NerDLModel().attach_files(tagger_folder).setIncludeConfidence(True)
    stages: list[Any] = [DocumentAssembler(), SentenceDetector(), Tokenizer(), vectors]
    if tagger.lexicon_classes():
        name = lexicon or tagger.training_record().get("lexicon", "")
        if not name:
            raise ValueError(
                f"self_training: the teacher {tagger_folder} reads lexicon features but its "
                f"record names no lexicon; set the recipe's lexicon"
            )
        stages.append(LexiconMatcherModel.pretrained(name).setOutputCol("lexicon"))
        tagger.setInputCols(["sentence", "token", "embeddings", "lexicon"])
    return LightPipeline([*stages, tagger, NerConverter().setOutputCol("ner_chunk")])
