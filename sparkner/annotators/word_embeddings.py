"""WordEmbeddings / WordEmbeddingsModel: one word vector per token.

``WordEmbeddings().setStoragePath(path, "TEXT" | "BINARY")`` reads word2vec text, GloVe text
or word2vec binary files (plain, gzip or xz) when fitted and writes sparkner's own store;
the fitted ``WordEmbeddingsModel`` looks tokens up in that store, memory-mapped in each
Python worker. ``WordEmbeddingsModel.pretrained("embeddings_clinical")`` loads the bundled
clinical vectors offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import keyword_only
from pyspark.ml import Estimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructField, StructType

from sparkner.annotation import (
    DOCUMENT,
    STORAGE_REF_KEY,
    TOKEN,
    WORD_EMBEDDINGS,
    AnnotationBatch,
    build_annotations,
    column_metadata,
)
from sparkner.base import (
    AnnotatorInputError,
    AnnotatorTransformer,
    BatchFunction,
    InputColsParam,
    OutputColParam,
    apply_setters,
)
from sparkner.embeddings.readers import FORMATS, TEXT, read_vectors
from sparkner.embeddings.store import StoreError, open_store, read_header, write_store
from sparkner.persistence import FolderStageReadWrite, scratch_folder
from sparkner.resources import bundled_folder
from sparkner.shipping import FolderLocation, ship_folder


def token_vectors(
    words: pa.Array, store: FolderLocation, case_sensitive: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each word's row in the store (-1: unknown) and its float32 vector (zeros if unknown)."""
    vectors = open_store(store.resolve())
    rows = vectors.lookup(words, case_sensitive)
    return rows, vectors.vectors_for(rows)


def embed_tokens(
    sentences: pa.Array | None, tokens: pa.Array, store: FolderLocation, case_sensitive: bool
) -> pa.Array:
    """A ``word_embeddings`` annotation per token: same span and text, the token's vector.

    Metadata: ``sentence``, ``token`` (the word) and ``isOOV``; an unknown word gets a zero
    vector and ``isOOV = "true"``.
    """
    batch = AnnotationBatch(tokens)
    words = batch.annotations.field("result")
    rows, vectors = token_vectors(words, store, case_sensitive)
    is_oov = pc.if_else(pa.array(rows < 0), "true", "false")
    return build_annotations(
        WORD_EMBEDDINGS,
        batch.row_offsets,
        batch.begin,
        batch.end,
        words,
        {
            "sentence": pc.fill_null(batch.metadata("sentence"), "0"),
            "token": words,
            "isOOV": is_oov,
        },
        embeddings=vectors,
    )


# A word_embeddings column written by a WordEmbeddingsModel records, in its metadata, which
# token column and which store its vectors come from. A tagger that reads the column in the
# same driver can then look the vectors up itself in the executors (the same lookup, the same
# floats) instead of having Spark carry 200 floats per token between the two stages; when
# nothing else selects the column, Spark does not compute it at all.
LOOKUP_KEY = "sparknerLookup"
# The column metadata key for the vectors' dimension (the tagger checks it at transform()).
DIMENSION_KEY = "dimension"
_STORES_BY_FINGERPRINT: dict[str, str] = {}


@dataclass(frozen=True)
class VectorLookup:
    """How a word_embeddings column was made: store folder, token column, case rule."""

    folder: str
    fingerprint: str
    token_column: str
    case_sensitive: bool


def vector_lookup_of(field: StructField) -> VectorLookup | None:
    """The lookup that made a ``word_embeddings`` column, if a WordEmbeddingsModel of this
    process wrote it (None for columns read back from files or made elsewhere)."""
    record = (field.metadata or {}).get(LOOKUP_KEY)
    if not isinstance(record, dict):
        return None
    folder = _STORES_BY_FINGERPRINT.get(str(record.get("store")))
    if folder is None or not isinstance(record.get("tokens"), str):
        return None
    return VectorLookup(folder, str(record["store"]), record["tokens"],
                        bool(record.get("caseSensitive")))  # fmt: skip


class _EmbeddingsParams(Params):
    dimension = Param(
        Params._dummy(), "dimension", "the vectors' dimension (checked against the file)",
        typeConverter=TypeConverters.toInt,
    )  # fmt: skip
    caseSensitive = Param(
        Params._dummy(), "caseSensitive",
        "whether lookup is exact only; otherwise exact, then lower case, then upper case",
        typeConverter=TypeConverters.toBoolean,
    )  # fmt: skip
    storageRef = Param(
        Params._dummy(), "storageRef",
        "a name for these vectors; taggers trained on them check it at transform()",
        typeConverter=TypeConverters.toString,
    )  # fmt: skip

    def _set_embeddings_defaults(self) -> None:
        self._setDefault(
            inputCols=["sentence", "token"], outputCol="embeddings", caseSensitive=False
        )

    def setDimension(self, value: int) -> Any:
        if int(value) < 1:
            raise ValueError(f"dimension must be at least 1, got {value}")
        return self._set(dimension=int(value))

    def setCaseSensitive(self, value: bool) -> Any:
        return self._set(caseSensitive=value)

    def setStorageRef(self, value: str) -> Any:
        if not value:
            raise ValueError("storageRef cannot be empty")
        return self._set(storageRef=value)

    def getDimension(self) -> int:
        return self.getOrDefault(self.dimension)

    def getCaseSensitive(self) -> bool:
        return self.getOrDefault(self.caseSensitive)

    def getStorageRef(self) -> str:
        return self.getOrDefault(self.storageRef)


class WordEmbeddings(
    Estimator,
    InputColsParam,
    OutputColParam,
    _EmbeddingsParams,
    DefaultParamsReadable,
    DefaultParamsWritable,
):
    """Reads a word-vector file when fitted and returns a :class:`WordEmbeddingsModel`."""

    storagePath = Param(
        Params._dummy(), "storagePath", "the word-vector file to read",
        typeConverter=TypeConverters.toString,
    )  # fmt: skip
    storageFormat = Param(
        Params._dummy(), "storageFormat",
        "TEXT (word2vec text with a header line, or GloVe text) or BINARY (word2vec binary)",
        typeConverter=TypeConverters.toString,
    )  # fmt: skip
    storageDtype = Param(
        Params._dummy(), "storageDtype", "float32, or float16 for half the memory",
        typeConverter=TypeConverters.toString,
    )  # fmt: skip

    @keyword_only
    def __init__(
        self,
        *,
        inputCols: list[str] | None = None,
        outputCol: str | None = None,
        storageRef: str | None = None,
        dimension: int | None = None,
        caseSensitive: bool | None = None,
    ) -> None:
        super().__init__()
        self._set_embeddings_defaults()
        self._setDefault(storageFormat=TEXT, storageDtype="float32")
        apply_setters(self, self._input_kwargs)

    def setStoragePath(self, path: str, storage_format: str = TEXT) -> WordEmbeddings:
        fmt = str(storage_format).upper()
        if fmt not in FORMATS:
            raise ValueError(f"storage format must be one of {FORMATS}, got {storage_format!r}")
        return self._set(storagePath=str(path), storageFormat=fmt)

    def setStorageDtype(self, value: str) -> WordEmbeddings:
        if value not in ("float16", "float32"):
            raise ValueError(f"storageDtype must be float16 or float32, got {value!r}")
        return self._set(storageDtype=value)

    def _fit(self, dataset: DataFrame) -> WordEmbeddingsModel:
        if not self.isDefined(self.storagePath):
            raise ValueError("WordEmbeddings: call setStoragePath(path, format) before fit()")
        path = self.getOrDefault(self.storagePath)
        model = WordEmbeddingsModel(
            inputCols=self.getOrDefault(self.inputCols),
            outputCol=self.getOrDefault(self.outputCol),
            caseSensitive=self.getOrDefault(self.caseSensitive),
        )
        # Check the columns before reading a large file; the store does not exist yet.
        AnnotatorTransformer.check_input_schema(model, dataset.schema)
        words, matrix = read_vectors(path, self.getOrDefault(self.storageFormat))
        if self.isDefined(self.dimension) and self.getDimension() != matrix.shape[1]:
            raise ValueError(
                f"{path}: vectors have dimension {matrix.shape[1]}, but dimension is set "
                f"to {self.getDimension()}"
            )
        ref = (
            self.getStorageRef()
            if self.isDefined(self.storageRef)
            else Path(path).name.split(".")[0]
        )
        folder = scratch_folder("sparkner-embeddings-")
        write_store(folder, words, matrix, ref, self.getOrDefault(self.storageDtype))
        return model.attach_files(folder)


class WordEmbeddingsModel(FolderStageReadWrite, AnnotatorTransformer, _EmbeddingsParams):
    """Looks every token up in a word-vector store (inputs: sentences and tokens)."""

    input_annotator_types = (DOCUMENT, TOKEN)
    output_annotator_type = WORD_EMBEDDINGS
    # Tokens per call: 800 bytes per token (200 floats) make a 26 MB output batch.
    max_call_size = 32_768
    # The tokens carry everything needed; the sentences stay in the JVM.
    reads_inputs = (False, True)

    @keyword_only
    def __init__(
        self,
        *,
        inputCols: list[str] | None = None,
        outputCol: str | None = None,
        caseSensitive: bool | None = None,
    ) -> None:
        super().__init__()
        self._set_embeddings_defaults()
        self._store_folder: str | None = None
        self.set_params_from(self._input_kwargs)

    # -- the store ----------------------------------------------------------------------------
    def attach_files(self, folder: str | os.PathLike[str]) -> WordEmbeddingsModel:
        """Use the store in ``folder``; its header sets dimension and storageRef. The store is
        opened here, so a damaged vectors or words file is refused now, not in a task."""
        header = open_store(folder).header
        self._store_folder = os.path.realpath(folder)
        self._set(dimension=header.dimension, storageRef=header.storage_ref)
        return self

    def files_folder(self) -> str:
        if self._store_folder is None:
            raise ValueError(
                "WordEmbeddingsModel has no vectors: fit a WordEmbeddings, load a saved "
                "model, or use WordEmbeddingsModel.pretrained()"
            )
        return self._store_folder

    @classmethod
    def pretrained(cls, name: str = "embeddings_clinical") -> WordEmbeddingsModel:
        """Vectors bundled with the package, loaded offline."""
        return cls().attach_files(bundled_folder(name, "store.json", "embeddings"))

    def store_info(self) -> dict[str, Any]:
        header = read_header(self.files_folder())
        return header.to_json()

    # -- the stage ----------------------------------------------------------------------------
    def check_input_schema(self, schema: StructType) -> None:
        super().check_input_schema(schema)
        self._check_store()

    def _check_store(self) -> None:
        try:
            header = read_header(self.files_folder())
        except StoreError as exc:
            raise AnnotatorInputError(f"{self._describe()}: {exc}") from None
        if self.isDefined(self.dimension) and header.dimension != self.getDimension():
            raise AnnotatorInputError(
                f"{self._describe()}: dimension is set to {self.getDimension()}, the vectors "
                f"have {header.dimension}"
            )

    def output_column_metadata(self, input_names: list[str]) -> dict[str, Any]:
        metadata: dict[str, Any] = column_metadata(WORD_EMBEDDINGS)
        metadata[STORAGE_REF_KEY] = self.getStorageRef()
        metadata[DIMENSION_KEY] = self.getDimension()
        fingerprint = read_header(self.files_folder()).fingerprint
        _STORES_BY_FINGERPRINT[fingerprint] = self.files_folder()
        metadata[LOOKUP_KEY] = {
            "store": fingerprint, "tokens": input_names[1],
            "caseSensitive": self.getCaseSensitive(),
        }  # fmt: skip
        return metadata

    def batch_function(self) -> BatchFunction:
        self._check_store()
        location = FolderLocation(self.files_folder())
        return partial(embed_tokens, store=location, case_sensitive=self.getCaseSensitive())

    def spark_batch_function(self, spark: SparkSession) -> BatchFunction:
        header = read_header(self.files_folder())
        location = ship_folder(spark, self.files_folder(), header.fingerprint)
        return partial(embed_tokens, store=location, case_sensitive=self.getCaseSensitive())
