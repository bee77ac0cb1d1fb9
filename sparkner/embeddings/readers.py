"""Readers for word-vector files: word2vec text (with a header), GloVe text (without one),
word2vec binary; plain, gzip or xz compressed (recognized by their magic bytes).

Every reader returns the words and a float32 matrix. When a word appears twice, the first
occurrence wins (word2vec and fastText write the most frequent form first). Errors name the
file and the line (text) or byte offset (binary).
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
from typing import BinaryIO

import numpy as np

TEXT = "TEXT"
BINARY = "BINARY"
FORMATS = (TEXT, BINARY)


class VectorFileError(ValueError):
    """A word-vector file is empty, truncated or malformed."""


def open_maybe_compressed(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a file for reading bytes, decompressing gzip or xz by its magic bytes."""
    with open(path, "rb") as probe:
        magic = probe.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic == b"\xfd7zXZ\x00":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_vectors(
    path: str | os.PathLike[str], file_format: str = TEXT
) -> tuple[list[str], np.ndarray]:
    """Read a vector file in ``TEXT`` (word2vec or GloVe) or ``BINARY`` (word2vec) format."""
    if file_format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {file_format!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such vector file")
    with open_maybe_compressed(path) as handle:
        if file_format == BINARY:
            words, matrix = _read_binary(handle, str(path))
        else:
            words, matrix = _read_text(handle, str(path))
    return _first_occurrences(words, matrix)


def _read_text(handle: BinaryIO, name: str) -> tuple[list[str], np.ndarray]:
    stream = io.TextIOWrapper(handle, encoding="utf-8", errors="replace")
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim: int | None = None
    declared_count: int | None = None
    for number, line in enumerate(stream, start=1):
        parts = line.rstrip("\n\r").rstrip(" ").split(" ")
        if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
            declared_count, dim = int(parts[0]), int(parts[1])  # word2vec / fastText header
            continue
        if parts == [""]:
            continue  # blank line
        if dim is None:
            dim = len(parts) - 1  # GloVe: the first vector tells the dimension
            if dim < 1:
                raise VectorFileError(f"{name}, line {number}: a word with no vector values")
        if len(parts) != dim + 1:
            raise VectorFileError(
                f"{name}, line {number}: expected a word and {dim} values, "
                f"found {len(parts) - 1} values"
            )
        try:
            rows.append(np.array(parts[1:], dtype=np.float32))
        except ValueError:
            raise VectorFileError(f"{name}, line {number}: a value is not a number") from None
        words.append(parts[0])
    if not words:
        raise VectorFileError(f"{name}: no vectors in the file")
    if declared_count is not None and declared_count != len(words):
        raise VectorFileError(
            f"{name}: the header declares {declared_count} vectors, the file holds {len(words)}"
        )
    return words, np.vstack(rows)


def _read_binary(handle: BinaryIO, name: str) -> tuple[list[str], np.ndarray]:
    header = handle.readline()
    parts = header.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise VectorFileError(f"{name}, byte 0: expected a 'count dimension' header line")
    count, dim = int(parts[0]), int(parts[1])
    if count < 1 or dim < 1:
        raise VectorFileError(f"{name}, byte 0: the header declares no vectors")
    offset = len(header)
    words: list[str] = []
    matrix = np.empty((count, dim), dtype=np.float32)
    row_bytes = 4 * dim
    for i in range(count):
        word = bytearray()
        while True:
            char = handle.read(1)
            if not char:
                raise VectorFileError(
                    f"{name}, byte {offset}: file ends inside word {i + 1} of {count}"
                )
            offset += 1
            if char == b" ":
                break
            if char != b"\n" or word:  # a newline after the previous vector is not part of it
                word += char
        data = handle.read(row_bytes)
        if len(data) != row_bytes:
            raise VectorFileError(
                f"{name}, byte {offset + len(data)}: file ends inside vector {i + 1} of {count}"
            )
        matrix[i] = np.frombuffer(data, dtype="<f4")
        offset += row_bytes
        # Bytes that are not UTF-8 are replaced, never fatal.
        words.append(word.decode("utf-8", errors="replace").strip())
    return words, matrix


def _first_occurrences(words: list[str], matrix: np.ndarray) -> tuple[list[str], np.ndarray]:
    seen: dict[str, int] = {}
    for i, word in enumerate(words):
        seen.setdefault(word, i)
    if len(seen) == len(words):
        return words, matrix
    keep = np.fromiter(seen.values(), dtype=np.int64, count=len(seen))
    return list(seen), matrix[keep]
