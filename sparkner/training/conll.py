"""``CoNLL().readDataset(spark, path)``: token-per-line NER files as an annotated DataFrame.

Reads the two-column TSV files of ``../shared/data`` (``token<TAB>tag``) and classic
CoNLL-2003 files (space separated, tag in the last column, ``-DOCSTART-`` between
documents). Blank lines end sentences. The DataFrame has the columns ``text``, ``document``,
``sentence``, ``token`` and ``label`` (``named_entity``), one row per sentence by default.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkner.annotation import DOCUMENT, NAMED_ENTITY, TOKEN, build_annotations, column_metadata

Sentence = list[tuple[str, str]]


class CoNLLFormatError(ValueError):
    """A line of a CoNLL file is not ``token ... tag``."""


def read_conll(path: str | os.PathLike[str]) -> list[list[Sentence]]:
    """Documents, each a list of sentences of ``(token, tag)``; errors name file and line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such CoNLL file")
    documents: list[list[Sentence]] = [[]]
    sentence: Sentence = []
    with open(path, encoding="utf-8", errors="strict") as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    if sentence:
                        documents[-1].append(sentence)
                    sentence = []
                    continue
                parts = line.split("\t") if "\t" in line else line.split()
                if parts[0] == "-DOCSTART-":
                    if sentence:
                        documents[-1].append(sentence)
                    sentence = []
                    if documents[-1]:
                        documents.append([])
                    continue
                if len(parts) < 2 or not parts[0] or not parts[-1]:
                    raise CoNLLFormatError(
                        f"{path}, line {number}: expected a token and a tag separated by a "
                        f"tab or spaces, found {len(parts)} field(s)"
                    )
                sentence.append((parts[0], parts[-1]))
        except UnicodeDecodeError as exc:
            raise CoNLLFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if sentence:
        documents[-1].append(sentence)
    return [d for d in documents if d]


def conll_table(documents: list[list[Sentence]], explode_sentences: bool = True) -> pa.Table:
    """The annotated columns for parsed documents (see the module docstring)."""
    rows = [[s] for d in documents for s in d] if explode_sentences else documents
    texts: list[str] = []
    sent = _Columns()
    tok = _Columns()
    for row in rows:
        pieces: list[str] = []
        offset = 0
        for index, sentence in enumerate(row):
            if index:
                pieces.append("\n")
                offset += 1
            start, first_piece = offset, len(pieces)
            for position, (token, tag) in enumerate(sentence):
                if position:
                    pieces.append(" ")
                    offset += 1
                tok.add(offset, offset + len(token) - 1, token, index, tag)
                pieces.append(token)
                offset += len(token)
            sent.add(start, offset - 1, "".join(pieces[first_piece:]), index, "")
        texts.append("".join(pieces))
        sent.end_row()
        tok.end_row()
    doc_offsets = np.arange(len(texts) + 1)
    document = build_annotations(
        DOCUMENT, doc_offsets, np.zeros(len(texts)), [len(t) - 1 for t in texts], texts,
        {"sentence": np.zeros(len(texts), dtype=np.int64)},
    )  # fmt: skip
    return pa.table(
        {
            "text": pa.array(texts, pa.string()),
            "document": document,
            "sentence": sent.build(DOCUMENT, {}),
            "token": tok.build(TOKEN, {}),
            "label": tok.build(NAMED_ENTITY, {"word": tok.results}, result=tok.tags),
        }
    )


class _Columns:
    """Flat per-annotation lists for one annotation column, plus row boundaries."""

    def __init__(self) -> None:
        self.begins: list[int] = []
        self.ends: list[int] = []
        self.results: list[str] = []
        self.sentences: list[int] = []
        self.tags: list[str] = []
        self.row_offsets: list[int] = [0]

    def add(self, begin: int, end: int, result: str, sentence: int, tag: str) -> None:
        self.begins.append(begin)
        self.ends.append(end)
        self.results.append(result)
        self.sentences.append(sentence)
        self.tags.append(tag)

    def end_row(self) -> None:
        self.row_offsets.append(len(self.begins))

    def build(self, annotator_type: str, extra: dict, result: list[str] | None = None) -> pa.Array:
        metadata = {"sentence": np.asarray(self.sentences, dtype=np.int64), **extra}
        return build_annotations(
            annotator_type, np.asarray(self.row_offsets), self.begins, self.ends,
            result if result is not None else self.results, metadata,
        )  # fmt: skip


class CoNLL:
    """Reads CoNLL / TSV NER files into the columns sparkner's NER stages train on."""

    def __init__(
        self,
        documentCol: str = "document",
        sentenceCol: str = "sentence",
        tokenCol: str = "token",
        labelCol: str = "label",
        explodeSentences: bool = True,
    ) -> None:
        self.columns = {
            "document": documentCol, "sentence": sentenceCol, "token": tokenCol,
            "label": labelCol,
        }  # fmt: skip
        self.explode_sentences = explodeSentences

    def readDataset(self, spark: SparkSession, path: str | os.PathLike[str]) -> DataFrame:
        """Parse ``path`` in the driver and return it as a DataFrame (errors name the line)."""
        table = conll_table(read_conll(path), self.explode_sentences)
        return training_frame(spark, table, self.columns)


# The annotation columns every NER training reader writes, with their annotator types.
TRAINING_COLUMNS = {"document": DOCUMENT, "sentence": DOCUMENT, "token": TOKEN,
                    "label": NAMED_ENTITY}  # fmt: skip


def training_frame(
    spark: SparkSession, table: pa.Table, names: dict[str, str] | None = None
) -> DataFrame:
    """A DataFrame of a reader's Arrow table, each annotation column marked with its type
    (and renamed by ``names``); other columns (text, id) pass through first."""
    names = names or {}
    frame = spark.createDataFrame(table)
    plain = [c for c in table.column_names if c not in TRAINING_COLUMNS]
    return frame.select(
        *plain,
        *[
            F.col(c).alias(names.get(c, c), metadata=column_metadata(t))
            for c, t in TRAINING_COLUMNS.items()
        ],
    )
