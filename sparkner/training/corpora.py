"""Readers for the open corpora the bundled models are trained on (text only, no labels)."""

from __future__ import annotations

import csv
import json
import lzma
import os
from collections.abc import Iterator
from pathlib import Path

from sparkner.embeddings.readers import open_maybe_compressed


def mtsamples_texts(path: str | os.PathLike[str]) -> Iterator[str]:
    """The ``transcription`` of each MTSamples row (CSV, optionally compressed)."""
    csv.field_size_limit(1 << 30)
    with open_maybe_compressed(path) as raw, _text(raw) as handle:
        for row in csv.DictReader(handle):
            if row.get("transcription"):
                yield row["transcription"]


def line_texts(path: str | os.PathLike[str]) -> Iterator[str]:
    """Non-empty lines of a (compressed) text file, e.g. MedQuAD answers."""
    with open_maybe_compressed(path) as raw, _text(raw) as handle:
        for line in handle:
            if line.strip():
                yield line.rstrip("\n")


def pubmedqa_texts(path: str | os.PathLike[str]) -> Iterator[str]:
    """Questions, abstract sections and long answers of PubMedQA's JSON."""
    with lzma.open(path) if str(path).endswith(".xz") else open(path, "rb") as handle:
        entries = json.load(handle)
    for entry in entries.values():
        yield entry.get("QUESTION", "")
        yield from entry.get("CONTEXTS", [])
        yield entry.get("LONG_ANSWER", "")


def conll_sentences(path: str | os.PathLike[str]) -> Iterator[list[str]]:
    """Token lists of a CoNLL / TSV file (first column), one per sentence."""
    sentence: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("-DOCSTART-"):
                if sentence:
                    yield sentence
                sentence = []
                continue
            sentence.append(line.split("\t")[0].split(" ")[0])
    if sentence:
        yield sentence


def brat_documents(folder: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """``(document id, text)`` for every ``.txt`` of a brat folder, in name order."""
    for path in sorted(Path(folder).glob("*.txt")):
        yield path.stem, path.read_text(encoding="utf-8", errors="replace")


def brat_group(document_id: str) -> str:
    """The unit a brat document is split by: Chia's trial id (``NCT..._inc`` -> ``NCT...``)."""
    return document_id.split("_")[0]


def _text(raw):
    import io

    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
