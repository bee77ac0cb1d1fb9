"""Word vectors by token, and the record that lets a later stage redo the lookup itself.

A ``word_embeddings`` column written by a WordEmbeddingsModel records in its column metadata
(:data:`~sparkner.core.annotation.LOOKUP_KEY`) which store folder (with its fingerprint),
which token column and which case rule made it. A stage that reads the column (the tagger)
can then look the vectors up itself in the executors, the same lookup giving the same floats,
instead of having Spark carry 200 floats per token between the two stages; when nothing else
selects the column, Spark does not compute it at all. The record is trusted only if the folder
still holds the store with that fingerprint; otherwise the stage reads the column as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark.sql.types import StructField

from sparkner.core.annotation import LOOKUP_KEY
from sparkner.embeddings.store import StoreError, open_store, read_header
from sparkner.runtime.shipping import FolderLocation


def token_vectors(
    words: pa.Array, store: FolderLocation, case_sensitive: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each word's row in the store (-1: unknown) and its float32 vector (zeros if unknown)."""
    vectors = open_store(store.resolve(), store.fingerprint)
    rows = vectors.lookup(words, case_sensitive)
    return rows, vectors.vectors_for(rows)


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
        if not all(isinstance(v, str) for v in (folder, fingerprint, tokens)):
            return None
        try:
            if not os.path.isdir(folder) or read_header(folder).fingerprint != fingerprint:
                return None
        except StoreError:
            return None
        return cls(folder, fingerprint, tokens, bool(record.get("caseSensitive")))
