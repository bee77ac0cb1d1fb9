"""Word-vector file readers: formats, compression, and errors that name file and line."""

from __future__ import annotations

import gzip
import lzma
import struct

import numpy as np
import pytest

from sparkner.embeddings.readers import VectorFileError, read_vectors

WORDS = ["chest", "pain", "Pain"]
MATRIX = np.array([[1, 2, 3], [0.5, -0.5, 0.25], [9, 8, 7]], dtype=np.float32)


def text_lines(header: bool) -> str:
    rows = [f"{w} " + " ".join(str(v) for v in row) for w, row in zip(WORDS, MATRIX, strict=True)]
    return ("3 3\n" if header else "") + "\n".join(rows) + "\n"


def binary_bytes(words=WORDS, matrix=MATRIX, newline=True) -> bytes:
    out = f"{len(words)} {matrix.shape[1]}\n".encode()
    for word, row in zip(words, matrix, strict=True):
        out += (word.encode() if isinstance(word, str) else word) + b" "
        out += struct.pack(f"<{len(row)}f", *row) + (b"\n" if newline else b"")
    return out


@pytest.mark.parametrize("header", [True, False], ids=["word2vec_text", "glove"])
@pytest.mark.parametrize("compress", [None, "gz", "xz"])
def test_text_formats(tmp_path, header, compress):
    data = text_lines(header).encode()
    path = tmp_path / "v.txt"
    if compress == "gz":
        data = gzip.compress(data)
    elif compress == "xz":
        data = lzma.compress(data)
    path.write_bytes(data)
    words, matrix = read_vectors(path, "TEXT")
    assert words == WORDS
    np.testing.assert_array_equal(matrix, MATRIX)


@pytest.mark.parametrize("newline", [True, False])
def test_word2vec_binary(tmp_path, newline):
    path = tmp_path / "v.bin"
    path.write_bytes(binary_bytes(newline=newline))
    words, matrix = read_vectors(path, "BINARY")
    assert words == WORDS
    np.testing.assert_array_equal(matrix, MATRIX)


def test_binary_gzip(tmp_path):
    path = tmp_path / "v.bin.gz"
    path.write_bytes(gzip.compress(binary_bytes()))
    assert read_vectors(path, "BINARY")[0] == WORDS


def test_binary_with_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(binary_bytes(words=[b"ok", b"bad\xff\xfe", b"caf\xc3\xa9"]))
    words, _ = read_vectors(path, "BINARY")
    assert words[0] == "ok" and words[1].startswith("bad") and words[2] == "café"


def test_duplicates_keep_the_first(tmp_path):
    path = tmp_path / "v.vec"
    path.write_text("3 2\nx 1 1\ny 2 2\nx 3 3\n")
    words, matrix = read_vectors(path)
    assert words == ["x", "y"]
    assert matrix.tolist() == [[1, 1], [2, 2]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("2 3\nchest 1 2 3\npain 1 2\n", r"v.vec, line 3: expected a word and 3 values, found 2"),
        ("chest 1 2 3\npain 1 x 3\n", r"v.vec, line 2: a value is not a number"),
        ("", r"v.vec: no vectors in the file"),
        ("3 3\nchest 1 2 3\n", r"the header declares 3 vectors, the file holds 1"),
        ("chest\n", r"line 1: a word with no vector values"),
    ],
    ids=["short_vector", "not_a_number", "empty", "count_mismatch", "no_values"],
)
def test_malformed_text_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "v.vec"
    path.write_text(content)
    with pytest.raises(VectorFileError, match=message):
        read_vectors(path)


def test_truncated_binary_names_the_byte(tmp_path):
    data = binary_bytes()
    path = tmp_path / "v.bin"
    path.write_bytes(data[:-7])
    with pytest.raises(VectorFileError, match=r"v.bin, byte \d+: file ends inside vector 3 of 3"):
        read_vectors(path, "BINARY")
    path.write_bytes(b"not a header\n")
    with pytest.raises(VectorFileError, match=r"byte 0: expected a 'count dimension' header"):
        read_vectors(path, "BINARY")


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such vector file"):
        read_vectors(tmp_path / "nope.vec")
    with pytest.raises(ValueError, match="format must be one of"):
        read_vectors(tmp_path / "nope.vec", "CSV")
