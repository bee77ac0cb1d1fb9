"""sparkner's embeddings store: a folder with a vocabulary, a matrix and a small JSON header.

    store.json   format name and version, dimension, count, dtype, storageRef, fingerprint
    words.txt    UTF-8, one word per line, in matrix row order
    vectors.npy  the (count, dimension) matrix, float16 or float32, loaded memory-mapped

Nothing is unpickled. The matrix is memory-mapped, so the Python workers of one machine share
one copy through the page cache. Opening a store reads its vocabulary; a stage keeps the
opened store (once per process, see sparkner.stages.cache), this module caches nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparkner.core.annotation import distinct_strings
from sparkner.core.formats import read_versioned_json

FORMAT_NAME = "sparkner-embeddings"
FORMAT_VERSION = 1
HEADER_FILE = "store.json"
WORDS_FILE = "words.txt"
VECTORS_FILE = "vectors.npy"
DTYPES = ("float16", "float32")


class StoreError(ValueError):
    """An embeddings store is missing, damaged, or newer than this sparkner."""


@dataclass(frozen=True)
class StoreHeader:
    dimension: int
    count: int
    dtype: str
    storage_ref: str
    fingerprint: str

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "dimension": self.dimension,
            "count": self.count,
            "dtype": self.dtype,
            "storageRef": self.storage_ref,
            "fingerprint": self.fingerprint,
        }


def write_store(
    directory: str | os.PathLike[str],
    words: list[str],
    matrix: np.ndarray,
    storage_ref: str,
    dtype: str = "float32",
) -> StoreHeader:
    """Write words and their vectors as a store in ``directory`` (created if needed).

    Words that hold a line break cannot be stored one per line and are left out.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but a matrix of shape {matrix.shape}")
    keep = [i for i, w in enumerate(words) if w and "\n" not in w and "\r" not in w]
    if len(keep) != len(words):
        words = [words[i] for i in keep]
        matrix = matrix[keep]
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(matrix, dtype=dtype)
    words_bytes = "".join(f"{w}\n" for w in words).encode("utf-8")
    digest = hashlib.sha256(words_bytes)
    digest.update(vectors.tobytes())
    header = StoreHeader(
        dimension=int(vectors.shape[1]),
        count=len(words),
        dtype=dtype,
        storage_ref=storage_ref,
        fingerprint=digest.hexdigest()[:16],
    )
    np.save(folder / VECTORS_FILE, vectors, allow_pickle=False)
    (folder / WORDS_FILE).write_bytes(words_bytes)
    (folder / HEADER_FILE).write_text(json.dumps(header.to_json(), indent=1) + "\n")
    return header


def read_header(directory: str | os.PathLike[str]) -> StoreHeader:
    """Read and check a store's header without loading its vectors."""
    path = Path(directory) / HEADER_FILE
    data = read_versioned_json(
        path, FORMAT_NAME, FORMAT_VERSION, StoreError, "sparkner embeddings store"
    )
    try:
        header = StoreHeader(
            dimension=int(data["dimension"]),
            count=int(data["count"]),
            dtype=str(data["dtype"]),
            storage_ref=str(data["storageRef"]),
            fingerprint=str(data["fingerprint"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{path}: missing or invalid field {exc}") from None
    if header.dtype not in DTYPES or header.dimension < 1 or header.count < 1:
        raise StoreError(f"{path}: invalid dtype, dimension or count")
    return header


class EmbeddingStore:
    """An opened store: word lookup and memory-mapped vectors."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        folder = Path(directory)
        self.directory = folder
        self.header = read_header(folder)
        try:
            self.vectors = np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{folder / VECTORS_FILE}: unreadable ({exc})") from None
        expected = (self.header.count, self.header.dimension)
        if self.vectors.shape != expected or self.vectors.dtype != np.dtype(self.header.dtype):
            raise StoreError(
                f"{folder / VECTORS_FILE}: holds {self.vectors.dtype} {self.vectors.shape}, "
                f"the header says {self.header.dtype} {expected}"
            )
        try:
            words = (folder / WORDS_FILE).read_bytes().decode("utf-8").split("\n")[:-1]
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{folder / WORDS_FILE}: unreadable ({exc})") from None
        if len(words) != self.header.count:
            raise StoreError(
                f"{folder / WORDS_FILE}: holds {len(words)} words, the header says "
                f"{self.header.count}"
            )
        self.words = words
        # Hashed once: a word listed twice keeps its first row, as the file reader does.
        self._rows: dict[str, int] = {}
        for row, word in enumerate(words):
            self._rows.setdefault(word, row)

    @property
    def dimension(self) -> int:
        return self.header.dimension

    def lookup(self, words: pa.Array | Sequence[str], case_sensitive: bool) -> np.ndarray:
        """Row index of each word, -1 where it is unknown.

        Without case sensitivity the exact form is tried, then lower case, then upper case
        (Unicode case mapping as Arrow's ``utf8_lower`` / ``utf8_upper`` do it).
        """
        # Each distinct word once; its case variants come from Arrow, so that the mapping
        # is the same whatever the batch.
        distinct, indices = distinct_strings(words)
        rows = np.fromiter(
            (self._rows.get(w, -1) for w in distinct.to_pylist()), np.int64, count=len(distinct)
        )
        if not case_sensitive:
            for variant in (pc.utf8_lower(distinct), pc.utf8_upper(distinct)):
                missing = np.flatnonzero(rows < 0)
                if not len(missing):
                    break
                forms = variant.take(pa.array(missing)).to_pylist()
                rows[missing] = [self._rows.get(w, -1) for w in forms]
        return np.append(rows, -1)[indices]  # the last row: a null word's

    def token_vectors(
        self, words: pa.Array | Sequence[str], case_sensitive: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each word's row (-1: unknown, see :meth:`lookup`) and its float32 vector (zeros if
        unknown)."""
        rows = self.lookup(words, case_sensitive)
        return rows, self.vectors_for(rows)

    def vectors_for(self, rows: np.ndarray) -> np.ndarray:
        """float32 vectors for row indices; a zero vector where the index is -1."""
        unknown = rows < 0
        out = self.vectors.take(np.where(unknown, 0, rows), axis=0).astype(np.float32)
        out[unknown] = 0.0
        return out

    def nearest(self, word: str, k: int = 8) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity to ``word``."""
        (row,) = self.lookup([word], case_sensitive=False)
        if row < 0:
            raise KeyError(f"{word!r} is not in the vocabulary")
        matrix = np.asarray(self.vectors, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) + 1e-12
        scores = matrix @ matrix[row] / (norms * norms[row])
        order = [i for i in np.argsort(-scores)[: k + 1] if i != row][:k]
        return [(self.words[i], float(scores[i])) for i in order]


def open_store(directory: str | os.PathLike[str]) -> EmbeddingStore:
    """The store in ``directory``, opened (and checked) now."""
    return EmbeddingStore(directory)
