"""WordEmbeddings / WordEmbeddingsModel: one word vector per token.

``WordEmbeddings().setStoragePath(path, "TEXT" | "BINARY")`` reads word2vec text, GloVe text
or word2vec binary files (plain, gzip or xz) when fitted and writes sparkner's own store;
the fitted ``WordEmbeddingsModel`` looks tokens up in that store, memory-mapped in each
Python worker. ``WordEmbeddingsModel.pretrained("embeddings_clinical")`` loads the bundled
clinical vectors offline.

A ``word_embeddings`` column written by a WordEmbeddingsModel records in its column metadata
(:data:`~sparkner.core.annotation.LOOKUP_KEY`, a :class:`VectorLookup`) which store folder
(with its fingerprint), which token column and which case rule made it. A stage that reads
the column (the tagger) can then look the vectors up itself in the executors, the same lookup
giving the same floats, instead of having Spark carry 200 floats per token between the two
stages; when nothing else selects the column, Spark does not compute it at all. The record is
trusted only if the folder still holds the store with that fingerprint; otherwise the stage
reads the column as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml.param import TypeConverters
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType

from sparkner.core.annotation import (
    DIMENSION_KEY,
    DOCUMENT,
    LOOKUP_KEY,
    STORAGE_REF_KEY,
    TOKEN,
    WORD_EMBEDDINGS,
    AnnotationBatch,
    build_annotations,
    column_metadata,
)
from sparkner.core.common import CoverageResult
from sparkner.core.params import HasCaseSensitive, HasDimension, HasStorageRef, declare, one_of
from sparkner.embeddings.readers import FORMATS, TEXT, read_vectors
from sparkner.embeddings.store import (
    DTYPES,
    HEADER_FILE,
    EmbeddingStore,
    StoreError,
    StoreHeader,
    open_store,
    read_header,
    write_store,
)
from sparkner.runtime.scratch import scratch_folder
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.cache import ModelFiles
from sparkner.stages.model import AnnotatorApproach, FolderCheck, FolderModel
from sparkner.stages.stage import AnnotatorInputError, InputColumns, roles


def embed_tokens(
    sentences: pa.Array | None,
    tokens: pa.Array,
    store: ModelFiles[EmbeddingStore],
    case_sensitive: bool,
) -> pa.Array:
    """A ``word_embeddings`` annotation per token: same span and text, the token's vector.

    Metadata: ``sentence``, ``token`` (the word) and ``isOOV``; an unknown word gets a zero
    vector and ``isOOV = "true"``.
    """
    batch = AnnotationBatch(tokens)
    words = batch.annotations.field("result")
    rows, vectors = store.load().token_vectors(words, case_sensitive)
    is_oov = pc.if_else(pa.array(rows < 0), "true", "false")
    return build_annotations(
        WORD_EMBEDDINGS,
        batch.row_offsets,
        batch.begin,
        batch.end,
        words,
        {
            "sentence": batch.metadata("sentence", "0"),
            "token": words,
            "isOOV": is_oov,
        },
        embeddings=vectors,
    )


def _coverage_counts(embeddings_col: str) -> tuple[Column, Column]:
    """Per row: the annotations not marked ``isOOV = "true"``, and all annotations."""
    annotations = F.coalesce(F.col(embeddings_col), F.array())
    known = F.filter(
        annotations, lambda a: F.coalesce(a["metadata"]["isOOV"], F.lit("false")) != "true"
    )
    return F.size(known), F.size(annotations)


@dataclass(frozen=True)
class VectorLookup:
    """How a word_embeddings column was made: store folder, token column, case rule."""

    folder: str
    fingerprint: str
    token_column: str
    case_sensitive: bool

    def metadata(self) -> dict[str, Any]:
        """The record to put in the column metadata under ``LOOKUP_KEY``."""
        return {
            "folder": self.folder,
            "store": self.fingerprint,
            "tokens": self.token_column,
            "caseSensitive": self.case_sensitive,
        }

    @classmethod
    def of_column(cls, field: StructField) -> VectorLookup | None:
        """The lookup that made a ``word_embeddings`` column, if its record is present and its
        store is still where it says (None for columns read from files or made elsewhere)."""
        record = (field.metadata or {}).get(LOOKUP_KEY)
        if not isinstance(record, dict):
            return None
        folder, fingerprint = record.get("folder"), record.get("store")
        tokens = record.get("tokens")
        if not (
            isinstance(folder, str) and isinstance(fingerprint, str) and isinstance(tokens, str)
        ):
            return None
        try:
            if not os.path.isdir(folder) or read_header(folder).fingerprint != fingerprint:
                return None
        except StoreError:
            return None
        return cls(folder, fingerprint, tokens, bool(record.get("caseSensitive")))


class _EmbeddingsParams(HasStorageRef, HasCaseSensitive, HasDimension):
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["sentence", "token"],
        "outputCol": "embeddings",
    }


class WordEmbeddingsModel(FolderModel, _EmbeddingsParams):
    """Looks every token up in a word-vector store (inputs: sentences and tokens)."""

    input_roles = roles(sentence=DOCUMENT, token=TOKEN)
    output_annotator_type = WORD_EMBEDDINGS
    bundled_marker = HEADER_FILE
    default_pretrained = "embeddings_clinical"
    files_kind = "vectors"
    pretrained_kind = "embeddings"
    # Tokens per call: 800 bytes per token (200 floats) make a 26 MB output batch.
    max_call_size = 32_768
    # The tokens carry everything needed; the sentences stay in the JVM.
    reads = ("token",)

    def check_files(self, folder: str) -> FolderCheck:
        """The store's header defines dimension and storageRef. The store is opened here (and
        kept for this process's batch functions), so a damaged vectors or words file is
        refused now, not in a task."""
        header = read_header(folder)
        self.store_files(FolderLocation(folder, fingerprint=header.fingerprint)).check()
        params = {"dimension": header.dimension, "storageRef": header.storage_ref}
        return FolderCheck(header.fingerprint, params, info=header)

    @classmethod
    def store_files(cls, files: FolderLocation) -> ModelFiles[EmbeddingStore]:
        """The store of a folder as batch functions get it (this stage's, and a tagger's that
        looks the vectors up itself)."""
        return cls.model_files(files, open_store)

    def header(self) -> StoreHeader:
        """The store's header, as read when the files were attached."""
        return self.files_info()

    # -- coverage, as Spark NLP's static methods -------------------------------------------------
    @staticmethod
    def withCoverageColumn(
        dataset: DataFrame, embeddings_col: str, output_col: str = "coverage"
    ) -> DataFrame:
        """``dataset`` with ``output_col``: per row, a struct of ``covered`` (tokens the
        vectors know: metadata ``isOOV`` is not "true"), ``total`` and ``percentage`` (a
        fraction; null for a row without tokens). Spark SQL only, no Python UDF."""
        covered, total = _coverage_counts(embeddings_col)
        percentage = F.when(total > 0, covered.cast("float") / total).cast("float")
        return dataset.withColumn(
            output_col,
            F.struct(
                covered.alias("covered"), total.alias("total"), percentage.alias("percentage")
            ),
        )

    @staticmethod
    def overallCoverage(dataset: DataFrame, embeddings_col: str) -> CoverageResult:
        """The tokens of ``embeddings_col`` (a ``word_embeddings`` column) the vectors know,
        over the whole DataFrame."""
        covered, total = _coverage_counts(embeddings_col)
        row = dataset.agg(
            F.coalesce(F.sum(covered), F.lit(0)).alias("covered"),
            F.coalesce(F.sum(total), F.lit(0)).alias("total"),
        ).first()
        assert row is not None  # an aggregate without grouping has one row
        known, count = int(row["covered"]), int(row["total"])
        return CoverageResult(known, count, known / count if count else float("nan"))

    def store_info(self) -> dict[str, Any]:
        return self.header().to_json()

    def vector_lookup(self, token_column: str) -> VectorLookup:
        """How this model looks up the tokens of ``token_column`` (see the module
        docstring)."""
        return VectorLookup(
            self.files_folder(), self.fingerprint, token_column, self.getCaseSensitive()
        )

    # -- the stage ----------------------------------------------------------------------------
    def check_input_fields(self, schema: StructType, inputs: InputColumns) -> None:
        self._check_dimension()

    def _check_dimension(self) -> None:
        """The dimension param, if set after the files, must be the vectors'."""
        dimension = self.header().dimension
        if self.isDefined(self.dimension) and dimension != self.getDimension():
            raise AnnotatorInputError(
                f"{self._describe()}: dimension is set to {self.getDimension()}, the vectors "
                f"have {dimension}"
            )

    def output_column_metadata(self, inputs: InputColumns) -> dict[str, Any]:
        metadata: dict[str, Any] = column_metadata(WORD_EMBEDDINGS)
        metadata[STORAGE_REF_KEY] = self.getStorageRef()
        metadata[DIMENSION_KEY] = self.getDimension()
        metadata[LOOKUP_KEY] = self.vector_lookup(inputs["token"]).metadata()
        return metadata

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        if spark is None:  # the LightPipeline, which checks no schema
            self._check_dimension()
        store = self.store_files(files)
        return partial(embed_tokens, store=store, case_sensitive=self.getCaseSensitive())


class WordEmbeddings(AnnotatorApproach[WordEmbeddingsModel], _EmbeddingsParams):
    """Reads a word-vector file when fitted and returns a :class:`WordEmbeddingsModel`."""

    model_class = WordEmbeddingsModel
    storagePath = declare("storagePath", "the word-vector file to read", TypeConverters.toString)
    storageFormat = declare(
        "storageFormat",
        "TEXT (word2vec text with a header line, or GloVe text) or BINARY (word2vec binary)",
        lambda v: TypeConverters.toString(v).upper(),
        one_of(FORMATS),
        default=TEXT,
    )
    storageDtype = declare(
        "storageDtype",
        "float32, or float16 for half the memory",
        TypeConverters.toString,
        one_of(DTYPES),
        default="float32",
    )

    def setStoragePath(self, path: str, storage_format: str = TEXT) -> WordEmbeddings:
        fmt = str(storage_format).upper()
        if fmt not in FORMATS:
            raise ValueError(f"storage format must be one of {FORMATS}, got {storage_format!r}")
        return self._set(storagePath=str(path), storageFormat=fmt)

    def _fit(self, dataset: DataFrame) -> WordEmbeddingsModel:
        if not self.isDefined(self.storagePath):
            raise ValueError("WordEmbeddings: call setStoragePath(path, format) before fit()")
        path = self.getStoragePath()
        # Check the columns before reading a large file; the store does not exist yet.
        self.check_input_columns(dataset.schema)
        words, matrix = read_vectors(path, self.getStorageFormat())
        if self.isDefined(self.dimension) and self.getDimension() != matrix.shape[1]:
            raise ValueError(
                f"{path}: vectors have dimension {matrix.shape[1]}, but dimension is set "
                f"to {self.getDimension()}"
            )
        default_ref = Path(path).name.split(".")[0]
        ref = self.getStorageRef() if self.isDefined(self.storageRef) else default_ref
        folder = scratch_folder("embeddings-")
        write_store(folder, words, matrix, ref, self.getStorageDtype())
        return self.new_model().attach_files(folder)
