"""Pretrained pipelines: raw text to entity chunks with a bundled tagger, offline.

``PretrainedPipeline("ner_clinical_pipeline")`` is DocumentAssembler -> SentenceDetector ->
Tokenizer -> WordEmbeddingsModel -> NerDLModel -> NerConverter with the bundled
``ner_clinical`` tagger and the vectors it was trained with, and the column names of Spark NLP's
pretrained pipelines (``document``, ``sentence``, ``token``, ``embeddings``, ``ner``,
``ner_chunk``). Every bundled tagger ``ner_X`` has a pipeline ``ner_X_pipeline``.
"""

from __future__ import annotations

import os
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLModel
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer
from sparkner.annotators.word_embeddings import WordEmbeddingsModel
from sparkner.light_pipeline import LightPipeline
from sparkner.persistence import check_saved_pipeline
from sparkner.resources import bundled_names

PIPELINE_SUFFIX = "_pipeline"


def available_pipelines() -> list[str]:
    """Names of the pretrained pipelines bundled with this sparkner."""
    return [name + PIPELINE_SUFFIX for name in bundled_names("tagger.json")]


def pretrained_pipeline_model(name: str) -> PipelineModel:
    """The fitted pipeline of a bundled tagger: ``ner_clinical_pipeline`` or ``ner_clinical``."""
    tagger_name = name.removesuffix(PIPELINE_SUFFIX)
    if tagger_name not in bundled_names("tagger.json"):
        raise ValueError(
            f"unknown pretrained pipeline {name!r}; available: {available_pipelines()}"
        )
    tagger = NerDLModel.pretrained(tagger_name).setIncludeConfidence(True)
    vectors = WordEmbeddingsModel.pretrained(tagger.getStorageRef())
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer(), vectors, tagger, NerConverter()]
    return PipelineModel(stages=stages)


class PretrainedPipeline:
    """A bundled pipeline, used like Spark NLP's ``PretrainedPipeline``.

    >>> pipeline = PretrainedPipeline("ner_clinical_pipeline")
    >>> pipeline.annotate("Chest CT showed pneumonia.")["ner_chunk"]
    ['Chest CT', 'pneumonia']
    >>> chunks = pipeline.transform(notes)  # a DataFrame with a string column "text"

    Nothing is downloaded: ``lang`` must be ``"en"`` and ``remote_loc`` is refused;
    ``disk_location`` (or :meth:`from_disk`) loads a pipeline saved with ``model.write()``.
    """

    def __init__(
        self,
        name: str = "ner_clinical_pipeline",
        lang: str = "en",
        remote_loc: str | None = None,
        disk_location: str | os.PathLike[str] | None = None,
    ) -> None:
        if lang != "en":
            raise ValueError(f"lang={lang!r}: sparkner's pretrained pipelines are English ('en')")
        if remote_loc is not None:
            raise ValueError("remote_loc: sparkner downloads nothing; its pipelines are bundled")
        self.name = name
        if disk_location is not None:
            check_saved_pipeline(os.fspath(disk_location))
            self.model = PipelineModel.load(os.fspath(disk_location))
        else:
            self.model = pretrained_pipeline_model(name)
        self.light_model = LightPipeline(self.model)

    @classmethod
    def from_disk(cls, path: str | os.PathLike[str]) -> PretrainedPipeline:
        """A pipeline saved with ``pipeline.model.write().save(path)``."""
        return cls(name=os.path.basename(os.fspath(path).rstrip("/")), disk_location=path)

    @property
    def text_column(self) -> str:
        return self.light_model.input_col

    def transform(self, data: DataFrame) -> DataFrame:
        """All of the pipeline's columns added to ``data`` (which needs the text column)."""
        return self.model.transform(data)

    def annotate(self, target: Any, column: str | None = None) -> Any:
        """Results per column for a text (a dict) or a list of texts (a list of dicts); for a
        DataFrame, its ``column`` is annotated by Spark (as in Spark NLP)."""
        if isinstance(target, DataFrame):
            return self._transform_column(target, column)
        return self.light_model.annotate(target)

    def fullAnnotate(self, target: Any, column: str | None = None) -> Any:
        """Like :meth:`annotate`, with whole :class:`~sparkner.annotation.Annotation` objects."""
        if isinstance(target, DataFrame):
            return self._transform_column(target, column)
        return self.light_model.fullAnnotate(target)

    def _transform_column(self, data: DataFrame, column: str | None) -> DataFrame:
        if column is None:
            raise ValueError("annotating a DataFrame needs column=, the name of its text column")
        if column != self.text_column:
            if self.text_column in data.columns:
                raise ValueError(
                    f"column={column!r}: the DataFrame already has a {self.text_column!r} "
                    "column, which the pipeline would read instead"
                )
            data = data.withColumnRenamed(column, self.text_column)
        return self.transform(data)
