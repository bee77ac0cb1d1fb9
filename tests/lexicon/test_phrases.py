"""TextMatcher's engine: every occurrence, case, merging, offsets."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sparkner.annotators.document_assembler import assemble_documents
from sparkner.lexicon.phrases import PhraseSet, match_phrases, read_phrases
from sparkner.text.tokenizing import TokenRules, tokenize

TEXT = "Chest pain and chest pain syndrome; no CHEST PAIN."


def found(texts, phrases, **settings):
    docs = assemble_documents(pa.array(texts, pa.string()))
    chunks = match_phrases(docs, tokenize(docs, TokenRules()), phrases=phrases, **settings)
    return [
        [(c["begin"], c["end"], c["result"], dict(c["metadata"])) for c in row]
        for row in chunks.to_pylist()
    ]


def test_case_sensitive_by_default_and_every_occurrence():
    phrases = PhraseSet(("chest pain", "chest pain syndrome", "pain"))
    (row, empty, none) = found([TEXT, "", None], phrases, entity="SYMPTOM")
    assert [(r, m["entity"]) for _, _, r, m in row] == [
        ("pain", "SYMPTOM"),
        ("chest pain", "SYMPTOM"),
        ("chest pain syndrome", "SYMPTOM"),
        ("pain", "SYMPTOM"),
    ]
    assert all(TEXT[b : e + 1] == r for b, e, r, _ in row)
    assert [m["chunk"] for *_, m in row] == ["0", "1", "2", "3"]
    assert empty == none == []


def test_case_insensitive_and_merged():
    phrases = PhraseSet(("chest pain", "pain syndrome"), case_sensitive=False)
    (row,) = found([TEXT], phrases, merge_overlapping=True)
    assert [r for _, _, r, _ in row] == ["Chest pain", "chest pain syndrome", "CHEST PAIN"]


def test_phrases_from_tokens_and_files(tmp_path):
    assert found(["x-ray done"], PhraseSet(("x - ray",), build_from_tokens=True)) == [[]]
    assert len(found(["x - ray done"], PhraseSet(("x - ray",), build_from_tokens=True))[0]) == 1
    path = tmp_path / "phrases.txt"
    path.write_bytes(b"fever\n\n chest pain \n")
    assert read_phrases(str(path)) == ["fever", "chest pain"]
    path.write_bytes(b"ok\n\xff\n")
    with pytest.raises(ValueError, match=r"phrases.txt, line 2: not UTF-8"):
        read_phrases(str(path))
