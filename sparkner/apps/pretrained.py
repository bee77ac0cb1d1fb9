"""Pretrained pipelines: raw text to entity chunks with bundled models, offline.

A bundled pipeline is data, not code: ``resources/<name>/pipeline.json`` lists its stages by
class name, each with the bundled model it loads (``pretrained``) and its params, e.g.
``ner_clinical_pipeline``: DocumentAssembler -> SentenceDetector -> Tokenizer ->
WordEmbeddingsModel -> NerDLModel -> NerConverter with the columns of Spark NLP's pretrained
pipelines (``document``, ``sentence``, ``token``, ``embeddings``, ``ner``, ``ner_chunk``). A
new bundled pipeline is a new spec. Only sparkner's own stage classes can be named.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.formats import read_versioned_json
from sparkner.resources import bundled_folder, bundled_names
from sparkner.runtime.fused import can_fuse, fused_transform
from sparkner.runtime.steps import annotator_stages
from sparkner.stages.model import FolderModel, check_pretrained_location
from sparkner.stages.persistence import check_saved_pipeline
from sparkner.stages.stage import AnnotatorStage

PIPELINE_SUFFIX = "_pipeline"
SPEC_FILE = "pipeline.json"
SPEC_FORMAT = "sparkner-pipeline"
SPEC_VERSION = 1


class PipelineSpecError(ValueError):
    """A pipeline spec names an unknown stage, param or model."""


def available_pipelines() -> list[str]:
    """Names of the pretrained pipelines bundled with this sparkner."""
    return bundled_names(SPEC_FILE)


def stage_classes() -> dict[str, type[AnnotatorStage]]:
    """sparkner's stage classes by name (those a spec may name): every concrete subclass of
    :class:`AnnotatorStage` in sparkner's modules (``import sparkner`` imports them all)."""
    found: dict[str, type[AnnotatorStage]] = {}
    pending: list[type] = [AnnotatorStage]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("sparkner.") and not getattr(cls, "__abstractmethods__", ()):
            found[cls.__name__] = cls
    return found


def pipeline_from_spec(path: str | os.PathLike[str]) -> PipelineModel:
    """The fitted pipeline a spec file describes."""
    spec = read_versioned_json(path, SPEC_FORMAT, SPEC_VERSION, PipelineSpecError, "pipeline spec")
    entries = spec.get("stages")
    if not isinstance(entries, list) or not entries:
        raise PipelineSpecError(f"{path}: 'stages' must be a non-empty list")
    classes = stage_classes()
    return PipelineModel(
        stages=[_stage(entry, classes, f"{path}: stage {i}") for i, entry in enumerate(entries)]
    )


def _stage(entry: Any, classes: dict[str, type[AnnotatorStage]], where: str) -> AnnotatorStage:
    if not isinstance(entry, dict) or entry.get("stage") not in classes:
        raise PipelineSpecError(f"{where}: 'stage' must be one of {sorted(classes)}")
    cls = classes[entry["stage"]]
    model = entry.get("pretrained")
    if model is None:
        stage = cls()
    elif issubclass(cls, FolderModel):
        stage = cls.pretrained(model)
    else:
        raise PipelineSpecError(f"{where}: {cls.__name__} has no pretrained models")
    for name, value in (entry.get("params") or {}).items():
        if not stage.hasParam(name):
            raise PipelineSpecError(f"{where}: {cls.__name__} has no param {name!r}")
        stage.set(stage.getParam(name), value)
    return stage


def pretrained_pipeline_model(name: str) -> PipelineModel:
    """A bundled pipeline by name: ``ner_clinical_pipeline``, or the model's name
    ``ner_clinical``."""
    full = name if name.endswith(PIPELINE_SUFFIX) else name + PIPELINE_SUFFIX
    if full not in available_pipelines():
        raise ValueError(
            f"unknown pretrained pipeline {name!r}; available: {available_pipelines()}"
        )
    return pipeline_from_spec(Path(bundled_folder(full, SPEC_FILE, "pipeline")) / SPEC_FILE)


class PretrainedPipeline:
    """A bundled pipeline, used like Spark NLP's ``PretrainedPipeline``.

    >>> pipeline = PretrainedPipeline("ner_clinical_pipeline")
    >>> pipeline.annotate("Chest CT showed pneumonia.")["ner_chunk"]
    ['Chest CT', 'pneumonia']
    >>> chunks = pipeline.transform(notes)  # a DataFrame with a string column "text"

    Nothing is downloaded: ``lang`` must be ``"en"``, and ``remote_loc`` may be Spark NLP's
    ``"clinical/models"`` or ``"public/models"`` (the bundled pipeline of that name, as the
    user meant) and nothing else; ``disk_location`` (or :meth:`from_disk`) loads a pipeline
    saved with ``model.write()``. ``parse_embeddings`` (as Spark NLP's): whether
    ``fullAnnotate`` fills the annotations' ``embeddings`` (empty otherwise).
    """

    def __init__(
        self,
        name: str = "ner_clinical_pipeline",
        lang: str = "en",
        remote_loc: str | None = None,
        parse_embeddings: bool = False,
        disk_location: str | os.PathLike[str] | None = None,
    ) -> None:
        check_pretrained_location(lang, remote_loc, "pipelines")
        self.name = name
        self.parse_embeddings = parse_embeddings
        if disk_location is not None:
            check_saved_pipeline(os.fspath(disk_location))
            self.model = PipelineModel.load(os.fspath(disk_location))
        else:
            self.model = pretrained_pipeline_model(name)

    @cached_property
    def light_model(self) -> LightPipeline:
        """The same stages in the driver, built on first use."""
        return LightPipeline(self.model, parse_embeddings=self.parse_embeddings)

    @classmethod
    def from_disk(cls, path: str | os.PathLike[str]) -> PretrainedPipeline:
        """A pipeline saved with ``pipeline.model.write().save(path)``."""
        return cls(name=os.path.basename(os.fspath(path).rstrip("/")), disk_location=path)

    @property
    def text_column(self) -> str:
        return annotator_stages(self.model)[1]

    def transform(self, data: DataFrame) -> DataFrame:
        """All of the pipeline's columns added to ``data`` (which needs the text column), as
        ``model.transform(data)`` adds them; computed with :func:`~sparkner.runtime.fused.
        fused_transform`, so that the columns one selects are all one pays for."""
        if can_fuse(self.model):
            return fused_transform(self.model, data)
        return self.model.transform(data)

    def annotate(self, target: Any, column: str | None = None) -> Any:
        """Results per column for a text (a dict) or a list of texts (a list of dicts); for a
        DataFrame, its ``column`` is annotated by Spark (as in Spark NLP)."""
        if isinstance(target, DataFrame):
            return self._transform_column(target, column)
        return self.light_model.annotate(target)

    def fullAnnotate(self, target: Any, column: str | None = None) -> Any:
        """Like :meth:`annotate`, with whole :class:`~sparkner.core.annotation.Annotation`
        objects."""
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
