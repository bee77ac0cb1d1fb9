"""The bases of model-backed stages: a fitted model with a folder of files, and its approach.

A :class:`FolderModel` is an annotator whose state is its params plus a folder of files
(vectors, weights, term lists). The base does everything such a stage shares: attach and
check the folder (applying the params its files define), find bundled models
(``pretrained``), save and load (``files/`` beside the params; no pickle), hand the batch
function the folder where it runs (the driver's path in the LightPipeline, a copy shipped by
Spark on the executors), and load what the folder holds once per process
(:mod:`sparkner.stages.cache`). A subclass says how to check its files and builds its batch
function from a :class:`~sparkner.runtime.shipping.FolderLocation`, loading through
:meth:`FolderModel.model_files`.

An :class:`AnnotatorApproach` is the estimator that fits such a model.
"""

from __future__ import annotations

import hashlib
import os
from abc import abstractmethod
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pyspark.ml import Estimator
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import SparkSession
from pyspark.sql.types import StructField, StructType

from sparkner.core.annotation import column_metadata
from sparkner.core.params import HasInputCols, HasOutputCol
from sparkner.core.spark_types import ANNOTATIONS_SPARK_TYPE
from sparkner.resources import bundled_folder
from sparkner.runtime.shipping import FolderLocation, ship_folder
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.cache import ModelFiles
from sparkner.stages.persistence import FolderStageReadWrite
from sparkner.stages.stage import AnnotatorTransformer, InputColumns, with_columns

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")
M = TypeVar("M", bound="FolderModel")


@dataclass(frozen=True)
class FolderCheck:
    """What checking a model folder found: the fingerprint of its content (it changes
    whenever what the stage loads from the folder does), the params the files define (the
    base sets them), and what else the stage keeps from its files (a config, a header),
    read once."""

    fingerprint: str
    params: Mapping[str, Any] = field(default_factory=dict)
    info: Any = None


def files_digest(folder: str | os.PathLike[str], *names: str) -> str:
    """A fingerprint of the files ``names`` of ``folder`` (all its files if none are named):
    their names and content."""
    root = Path(folder)
    paths = [root / name for name in names] if names else sorted(root.iterdir())
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            data = path.read_bytes()
            digest.update(f"{path.name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:16]


# Spark NLP's model repositories (``pretrained(name, "en", "clinical/models")``): a user naming
# one means the model of that name, which sparkner bundles if it has it.
SPARK_NLP_LOCATIONS = ("clinical/models", "public/models")


def check_pretrained_location(lang: str, remote_loc: str | None, what: str) -> None:
    """Refuse a ``lang`` other than English and a ``remote_loc`` other than Spark NLP's
    repositories (:data:`SPARK_NLP_LOCATIONS`): sparkner's bundled ``what`` are English and
    nothing is downloaded."""
    if lang != "en":
        raise ValueError(f"lang={lang!r}: sparkner's bundled {what} are English ('en')")
    if remote_loc is not None and remote_loc not in SPARK_NLP_LOCATIONS:
        raise ValueError(
            f"remote_loc={remote_loc!r}: sparkner downloads nothing; its {what} are bundled "
            f"(remote_loc may be None or one of Spark NLP's {list(SPARK_NLP_LOCATIONS)}, "
            f"meaning the bundled model of that name)"
        )


class FolderModel(FolderStageReadWrite, AnnotatorTransformer):
    """An annotator whose state is params plus a folder of files.

    A subclass declares ``bundled_marker`` (the file that marks a bundled folder of its kind,
    e.g. ``tagger.json``), ``default_pretrained`` and ``files_kind`` (what its folder holds,
    for messages and the cache; ``pretrained_kind`` if bundled models are called otherwise),
    and implements :meth:`folder_function`; and :meth:`check_files` if a fingerprint of all
    its files is not check enough.
    """

    bundled_marker: ClassVar[str]
    default_pretrained: ClassVar[str]
    files_kind: ClassVar[str]
    pretrained_kind: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        self._files_folder: str | None = None
        self._files_check = FolderCheck("")
        super().__init__(**params)

    def check_files(self, folder: str) -> FolderCheck:
        """Check the files in ``folder`` (raise if any is missing or damaged, so that a bad
        folder is refused here, not in a task) and say what they define. By default: a
        fingerprint of every file."""
        return FolderCheck(files_digest(folder))

    @abstractmethod
    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        """The batch function, reading the files at ``files`` (through
        :meth:`model_files`); ``spark`` is the session of the Spark path (None in the
        LightPipeline)."""

    @classmethod
    def model_files(
        cls, files: FolderLocation, loader: Callable[[str], T], *variant: Hashable
    ) -> ModelFiles[T]:
        """What a batch function loads from ``files``: ``loader(folder)``, once per process
        per fingerprint and ``variant`` (the settings, if any, the loading depends on)."""
        return ModelFiles(files, (cls.files_kind, *variant), loader)

    def attach_files(self, folder: str | os.PathLike[str]) -> Self:
        """Use the files in ``folder`` (checked now, and the params they define set);
        returns this stage."""
        path = os.path.realpath(folder)
        check = self.check_files(path)
        self._set(**check.params)
        self._files_folder, self._files_check = path, check
        return self

    def has_files(self) -> bool:
        return self._files_folder is not None

    def files_folder(self) -> str:
        if self._files_folder is None:
            name = type(self).__name__
            raise ValueError(
                f"{name} has no {self.files_kind}: fit its approach, load a saved model, or "
                f"use {name}.pretrained()"
            )
        return self._files_folder

    def files_info(self) -> Any:
        """What :meth:`check_files` kept from the files (``FolderCheck.info``)."""
        self.files_folder()
        return self._files_check.info

    @property
    def fingerprint(self) -> str:
        self.files_folder()
        return self._files_check.fingerprint

    @classmethod
    def pretrained(
        cls, name: str | None = None, lang: str = "en", remote_loc: str | None = None
    ) -> Self:
        """A model bundled with the package, loaded offline. ``lang`` and ``remote_loc`` are
        Spark NLP's: the bundled models are English, and nothing is downloaded, so
        ``remote_loc`` may only name Spark NLP's model repositories (``"clinical/models"``,
        ``"public/models"``), whose model of that name the user means: the bundled one."""
        check_pretrained_location(lang, remote_loc, "models")
        kind = cls.pretrained_kind or cls.files_kind
        folder = bundled_folder(name or cls.default_pretrained, cls.bundled_marker, kind)
        return cls().attach_files(folder)

    def local_files(self) -> FolderLocation:
        """The folder as this process sees it."""
        return FolderLocation(self.files_folder(), fingerprint=self.fingerprint)

    def shipped_files(self, spark: SparkSession) -> FolderLocation:
        """The folder as the executors see it (shipped once per application)."""
        return ship_folder(spark, self.files_folder(), self.fingerprint)

    # -- the inputs, checked against the files too ---------------------------------------------
    def check_roles(self, inputs: InputColumns) -> None:
        """Raise :class:`~sparkner.stages.stage.AnnotatorInputError` if the files need other
        inputs than those given (an optional role they need, or one they cannot use)."""

    def check_input_fields(self, schema: StructType, inputs: InputColumns) -> None:
        """Raise :class:`~sparkner.stages.stage.AnnotatorInputError` if an input column's
        record (its metadata: the vectors' dimension, say) does not suit the files."""

    def resolve_inputs(self, column_types: Mapping[str, str | None] | None = None) -> InputColumns:
        inputs = super().resolve_inputs(column_types)
        if self.has_files():  # else an approach's model, checked again once fitted
            self.check_roles(inputs)
        return inputs

    def checked_inputs(self, schema: StructType) -> InputColumns:
        self.files_folder()  # a model without files cannot transform anything
        inputs = super().checked_inputs(schema)
        self.check_input_fields(schema, inputs)
        return inputs

    def batch_function(self) -> BatchFunction:
        return self.folder_function(self.local_files(), None)

    def spark_batch_function(self, spark: SparkSession) -> BatchFunction:
        return self.folder_function(self.shipped_files(spark), spark)


class AnnotatorApproach(
    Estimator[M], HasInputCols, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable
):
    """The estimator of a :class:`FolderModel` ``M``: ``fit`` writes the model's files.

    A subclass (of ``AnnotatorApproach[ItsModel]``) declares ``model_class``; the params it
    shares with the model (by name) are copied to the model it returns.
    """

    # A class attribute, set by each subclass (a ClassVar cannot be generic).
    model_class: type[M]

    def new_model(self) -> M:
        """A model of ``model_class`` with this approach's shared params, without files."""
        return self._copyValues(self.model_class())

    def checked_inputs(self, schema: StructType) -> InputColumns:
        """The input columns by role, checked as the model will check them, before any work
        (but for what only the model's files can tell)."""
        return AnnotatorTransformer.checked_inputs(self.new_model(), schema)

    def check_input_columns(self, schema: StructType) -> list[str]:
        """:meth:`checked_inputs`, the column names in the order the model reads them."""
        return list(self.checked_inputs(schema).values())

    def transformSchema(self, schema: StructType) -> StructType:
        """The schema the fitted model's ``transform`` gives, its inputs checked now. The
        output column records its annotator type; what the files define (the vectors'
        storageRef, say) is known once they exist."""
        self.checked_inputs(schema)
        metadata = column_metadata(self.model_class.output_annotator_type)
        field = StructField(self.getOutputCol(), ANNOTATIONS_SPARK_TYPE, True, metadata)
        return with_columns(schema, [field])
