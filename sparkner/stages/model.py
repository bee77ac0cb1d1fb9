"""The bases of model-backed stages: a fitted model with a folder of files, and its approach.

A :class:`FolderModel` is an annotator whose state is its params plus a folder of files
(vectors, weights, term lists). The base does everything such a stage shares: attach and
check the folder, find bundled models (``pretrained``), save and load (``files/`` beside the
params; no pickle), and hand the batch function the folder where it runs (the driver's path
in the LightPipeline, a copy shipped by Spark on the executors). A subclass says how to check
its files and builds its batch function from a :class:`~sparkner.runtime.shipping.FolderLocation`.

An :class:`AnnotatorApproach` is the estimator that fits such a model.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from typing import Any, ClassVar

from pyspark.ml import Estimator
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from sparkner.core.params import HasInputCols, HasOutputCol
from sparkner.resources import bundled_folder
from sparkner.runtime.shipping import FolderLocation, ship_folder
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.persistence import FolderStageReadWrite
from sparkner.stages.stage import AnnotatorTransformer, annotator_type_of


class FolderModel(FolderStageReadWrite, AnnotatorTransformer):
    """An annotator whose state is params plus a folder of files.

    A subclass declares ``bundled_marker`` (the file that marks a bundled folder of its kind,
    e.g. ``tagger.json``), ``default_pretrained`` and ``files_kind`` (what its folder holds,
    for messages; ``pretrained_kind`` if bundled models are called otherwise), and implements
    :meth:`check_files` and :meth:`folder_function`.
    """

    bundled_marker: ClassVar[str]
    default_pretrained: ClassVar[str]
    files_kind: ClassVar[str]
    pretrained_kind: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        self._files_folder: str | None = None
        self._fingerprint = ""
        super().__init__(**params)

    @abstractmethod
    def check_files(self, folder: str) -> str:
        """Check the files in ``folder`` (raise if any is missing or damaged, so that a bad
        folder is refused here, not in a task), set the params they define, and return a
        fingerprint that changes whenever their content does."""

    @abstractmethod
    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        """The batch function, reading the files at ``files``; ``spark`` is the session of
        the Spark path (None in the LightPipeline)."""

    def attach_files(self, folder: str | os.PathLike[str]) -> Any:
        """Use the files in ``folder`` (checked now); returns this stage."""
        path = os.path.realpath(folder)
        self._fingerprint = self.check_files(path)
        self._files_folder = path
        return self

    def files_folder(self) -> str:
        if self._files_folder is None:
            name = type(self).__name__
            raise ValueError(
                f"{name} has no {self.files_kind}: fit its approach, load a saved model, or "
                f"use {name}.pretrained()"
            )
        return self._files_folder

    @property
    def fingerprint(self) -> str:
        self.files_folder()
        return self._fingerprint

    @classmethod
    def pretrained(
        cls, name: str | None = None, lang: str = "en", remote_loc: str | None = None
    ) -> Any:
        """A model bundled with the package, loaded offline. ``lang`` and ``remote_loc`` are
        Spark NLP's: the bundled models are English, and nothing is downloaded."""
        if lang != "en":
            raise ValueError(f"lang={lang!r}: sparkner's bundled models are English ('en')")
        if remote_loc is not None:
            raise ValueError("remote_loc: sparkner downloads nothing; its models are bundled")
        kind = cls.pretrained_kind or cls.files_kind
        folder = bundled_folder(name or cls.default_pretrained, cls.bundled_marker, kind)
        return cls().attach_files(folder)

    def shipped_files(self, spark: SparkSession) -> FolderLocation:
        """The folder as the executors see it (shipped once per application)."""
        return ship_folder(spark, self.files_folder(), self.fingerprint)

    def batch_function(self) -> BatchFunction:
        files = FolderLocation(self.files_folder(), fingerprint=self.fingerprint)
        return self.folder_function(files, None)

    def spark_batch_function(self, spark: SparkSession) -> BatchFunction:
        return self.folder_function(self.shipped_files(spark), spark)


class AnnotatorApproach(
    Estimator, HasInputCols, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable
):
    """The estimator of a :class:`FolderModel`: ``fit`` writes the model's files.

    A subclass declares ``model_class``; the params it shares with the model (by name) are
    copied to the model it returns.
    """

    model_class: ClassVar[type[FolderModel]]

    def new_model(self) -> Any:
        """A model of ``model_class`` with this approach's shared params, without files."""
        return self._copyValues(self.model_class())

    def check_input_columns(self, schema: StructType) -> list[str]:
        """Check the input columns as the model will, before any work; their names in the
        order the model reads them."""
        probe = self.new_model()
        AnnotatorTransformer.check_input_schema(probe, schema)
        return probe.input_columns({f.name: annotator_type_of(f) for f in schema.fields})
