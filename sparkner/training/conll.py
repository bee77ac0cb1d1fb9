"""``CoNLL().readDataset(spark, path)``: token-per-line NER files as an annotated DataFrame.

Reads the two-column TSV files of ``../shared/data`` (``token<TAB>tag``) and classic
CoNLL-2003 files (space separated, ``token POS chunk tag``, ``-DOCSTART-`` between
documents). Blank lines end sentences. The DataFrame has the columns ``text``, ``document``,
``sentence``, ``token``, ``pos`` and ``label`` (``named_entity``), one row per sentence by
default, as Spark NLP's ``CoNLL`` reader writes them.

``pos`` (annotator type ``pos``) holds each token's part-of-speech tag, the second field
(``conllPosIndex``) of files whose token lines all have three fields or more (CoNLL-2003).
Two-column TSV files have no POS: their ``pos`` column is there, with no annotations (empty
lists), so that code reading the column's schema runs on both kinds of file. The tag is the
last field (or field ``conllLabelIndex``). ``CoNLL(includeDocId=True)`` adds ``doc_id``: the
third field of the ``-DOCSTART-`` line that opens the document, ``X`` when the line has none
or holds CoNLL-2003's placeholder ``-X-`` (and for text before any ``-DOCSTART-``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkner.core.annotation import (
    DOCUMENT,
    NAMED_ENTITY,
    POS,
    TOKEN,
    build_annotations,
    column_metadata,
)

# (token, tag) pairs, or (token, tag, pos) triples (pos None where a line has no POS tag).
Sentence = Sequence[tuple[str, str] | tuple[str, str, str | None]]
NO_DOC_ID = "X"


class CoNLLFormatError(ValueError):
    """A line of a CoNLL file is not ``token ... tag``."""


def read_conll(path: str | os.PathLike[str]) -> list[list[list[tuple[str, str]]]]:
    """Documents, each a list of sentences of ``(token, tag)``; errors name file and line."""
    return [
        [[(t[0], t[1]) for t in sentence] for sentence in document.sentences]
        for document in read_conll_documents(path)
    ]


@dataclass
class CoNLLDocument:
    """One document of a CoNLL file: its id and its sentences of ``(token, tag, pos)``
    (``pos`` is None where the line has no POS field)."""

    doc_id: str
    sentences: list[list[tuple[str, str, str | None]]] = field(default_factory=list)


def read_conll_documents(
    path: str | os.PathLike[str], pos_index: int = 1, label_index: int | None = None
) -> list[CoNLLDocument]:
    """The documents of a CoNLL or TSV file; the tag is field ``label_index`` (None: the
    last), the POS tag field ``pos_index`` of lines with three fields or more. Errors name
    the file and line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such CoNLL file")
    documents = [CoNLLDocument(NO_DOC_ID)]
    sentence: list[tuple[str, str, str | None]] = []
    with open(path, encoding="utf-8", errors="strict") as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    if sentence:
                        documents[-1].sentences.append(sentence)
                    sentence = []
                    continue
                parts = line.split("\t") if "\t" in line else line.split()
                if parts[0] == "-DOCSTART-":
                    if sentence:
                        documents[-1].sentences.append(sentence)
                    sentence = []
                    doc_id = parts[2] if len(parts) > 2 and parts[2] != "-X-" else NO_DOC_ID
                    if documents[-1].sentences:
                        documents.append(CoNLLDocument(doc_id))
                    else:
                        documents[-1].doc_id = doc_id
                    continue
                label = -1 if label_index is None else label_index
                if len(parts) < 2 or not parts[0] or len(parts) <= label or not parts[label]:
                    raise CoNLLFormatError(
                        f"{path}, line {number}: expected a token and a tag separated by a "
                        f"tab or spaces, found {len(parts)} field(s)"
                    )
                pos = parts[pos_index] if len(parts) > 2 and len(parts) > pos_index else None
                sentence.append((parts[0], parts[label], pos))
        except UnicodeDecodeError as exc:
            raise CoNLLFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if sentence:
        documents[-1].sentences.append(sentence)
    return [d for d in documents if d.sentences]


def conll_table(
    documents: Sequence[Sequence[Sentence]],
    explode_sentences: bool = True,
    doc_ids: list[str] | None = None,
) -> pa.Table:
    """The annotated columns for parsed documents (see the module docstring); with
    ``doc_ids`` (one per document), a ``doc_id`` column too."""
    ids = doc_ids if doc_ids is not None else [NO_DOC_ID] * len(documents)
    rows: Sequence[Sequence[Sentence]]
    if explode_sentences:
        rows = [[s] for d in documents for s in d]
        row_ids = [i for d, i in zip(documents, ids, strict=True) for _ in d]
    else:
        rows, row_ids = documents, list(ids)
    # POS tags where every token of the file has one (see the module docstring).
    tokens = [t for row in rows for s in row for t in s]
    has_pos = bool(tokens) and all(len(t) > 2 and t[2] is not None for t in tokens)
    texts: list[str] = []
    sent = _Columns()
    tok = _Columns()
    pos = _Columns()
    for row in rows:
        pieces: list[str] = []
        offset = 0
        for index, sentence in enumerate(row):
            if index:
                pieces.append("\n")
                offset += 1
            start, first_piece = offset, len(pieces)
            for position, (token, tag, *rest) in enumerate(sentence):
                if position:
                    pieces.append(" ")
                    offset += 1
                tok.add(offset, offset + len(token) - 1, token, index, tag)
                if has_pos:
                    pos_tag = rest[0]
                    assert pos_tag is not None  # has_pos: every token has its POS tag
                    pos.add(offset, offset + len(token) - 1, token, index, pos_tag)
                pieces.append(token)
                offset += len(token)
            sent.add(start, offset - 1, "".join(pieces[first_piece:]), index, "")
        texts.append("".join(pieces))
        sent.end_row()
        tok.end_row()
        pos.end_row()
    doc_offsets = np.arange(len(texts) + 1)
    document = build_annotations(
        DOCUMENT,
        doc_offsets,
        np.zeros(len(texts)),
        [len(t) - 1 for t in texts],
        texts,
        {"sentence": np.zeros(len(texts), dtype=np.int64)},
    )
    columns = {
        "text": pa.array(texts, pa.string()),
        "document": document,
        "sentence": sent.build(DOCUMENT, {}),
        "token": tok.build(TOKEN, {}),
        "pos": pos.build(POS, {"word": pos.results}, result=pos.tags),
        "label": tok.build(NAMED_ENTITY, {"word": tok.results}, result=tok.tags),
    }
    if doc_ids is not None:
        columns = {"doc_id": pa.array(row_ids, pa.string()), **columns}
    return pa.table(columns)


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
            annotator_type,
            np.asarray(self.row_offsets),
            self.begins,
            self.ends,
            result if result is not None else self.results,
            metadata,
        )


class CoNLL:
    """Reads CoNLL / TSV NER files into the columns sparkner's NER stages train on, with
    Spark NLP's keywords (``delimiter`` is accepted: fields are split at tabs, or else at
    runs of spaces)."""

    def __init__(
        self,
        documentCol: str = "document",
        sentenceCol: str = "sentence",
        tokenCol: str = "token",
        posCol: str = "pos",
        conllLabelIndex: int | None = None,
        conllPosIndex: int = 1,
        conllDocIdCol: str = "doc_id",
        labelCol: str = "label",
        explodeSentences: bool = True,
        delimiter: str = " ",
        includeDocId: bool = False,
    ) -> None:
        self.columns = {
            "document": documentCol,
            "sentence": sentenceCol,
            "token": tokenCol,
            "pos": posCol,
            "label": labelCol,
            "doc_id": conllDocIdCol,
        }
        self.explode_sentences = explodeSentences
        self.include_doc_id = includeDocId
        self.label_index = conllLabelIndex
        self.pos_index = conllPosIndex

    def readDataset(
        self,
        spark: SparkSession,
        path: str | os.PathLike[str],
        read_as: str = "TEXT",
        partitions: int = 8,
        storage_level: Any = None,
    ) -> DataFrame:
        """Parse ``path`` in the driver and return it as a DataFrame (errors name the line).
        ``read_as``, ``partitions`` and ``storage_level`` are Spark NLP's; the file is
        read as text in the driver whatever they say."""
        if str(read_as).upper() != "TEXT":
            raise ValueError(f"readDataset: read_as must be ReadAs.TEXT ('TEXT'), got {read_as!r}")
        documents = read_conll_documents(path, self.pos_index, self.label_index)
        table = conll_table(
            [d.sentences for d in documents],
            self.explode_sentences,
            [d.doc_id for d in documents] if self.include_doc_id else None,
        )
        return training_frame(spark, table, self.columns, {"pos": POS})


# The annotation columns every NER training reader writes, with their annotator types.
TRAINING_COLUMNS = {
    "document": DOCUMENT,
    "sentence": DOCUMENT,
    "token": TOKEN,
    "label": NAMED_ENTITY,
}


def training_frame(
    spark: SparkSession,
    table: pa.Table,
    names: dict[str, str] | None = None,
    extra_types: dict[str, str] | None = None,
) -> DataFrame:
    """A DataFrame of a reader's Arrow table, each annotation column marked with its type
    (and renamed by ``names``); other columns (text, id) pass through first. ``extra_types``:
    further annotation columns of the table (name -> annotator type), placed before
    ``label``."""
    names = names or {}
    types = dict(TRAINING_COLUMNS)
    label = types.pop("label")
    types.update(extra_types or {})
    types["label"] = label
    frame = spark.createDataFrame(table)
    plain = [c for c in table.column_names if c not in types]
    return frame.select(
        *[F.col(c).alias(names.get(c, c)) for c in plain],
        *[F.col(c).alias(names.get(c, c), metadata=column_metadata(t)) for c, t in types.items()],
    )
