"""Normalizer and StopWordsCleaner engines: spans kept, results normalized or dropped."""

from __future__ import annotations

import pyarrow as pa

from sparkner.annotators.document_assembler import assemble_documents
from sparkner.core.annotation import AnnotationBatch
from sparkner.text.normalizing import (
    NormalizerRules,
    clean_stop_words,
    normalize_tokens,
    stop_word_set,
)
from sparkner.text.stopwords import ENGLISH_STOP_WORDS
from sparkner.text.tokenizing import TokenRules, tokenize


def tokens_of(texts):
    return tokenize(assemble_documents(pa.array(texts, pa.string())), TokenRules())


def read(column):
    batch = AnnotationBatch(column)
    rows = batch.annotations.to_pylist()
    return [
        [(a["begin"], a["end"], a["result"], dict(a["metadata"])) for a in rows[lo:hi]]
        for lo, hi in zip(batch.row_offsets[:-1], batch.row_offsets[1:], strict=True)
    ]


def test_default_patterns_keep_letters_and_spans():
    out = read(normalize_tokens(tokens_of(["Chest-pain, 10 mg.", None]), rules=NormalizerRules()))
    assert out == [[(0, 9, "Chestpain", {"sentence": "0"}), (15, 16, "mg", {"sentence": "0"})], []]


def test_lowercase_slang_and_lengths():
    rules = NormalizerRules(lowercase=True, slang=(("pt", "the patient"),), min_length=3)
    out = read(normalize_tokens(tokens_of(["Pt is ok"]), rules=rules))
    assert [(b, e, r) for b, e, r, _ in out[0]] == [(0, 1, "the"), (0, 1, "patient")]


def test_stop_words_are_dropped_and_the_rest_unchanged():
    words = stop_word_set(ENGLISH_STOP_WORDS, case_sensitive=False)
    out = read(clean_stop_words(tokens_of(["The patient has no fever"]), stop_words=words))
    assert [r for _, _, r, _ in out[0]] == ["patient", "fever"]
    exact = stop_word_set(["The"], case_sensitive=True)
    kept = read(clean_stop_words(tokens_of(["the The"]), stop_words=exact, case_sensitive=True))
    assert [(b, e, r) for b, e, r, _ in kept[0]] == [(0, 2, "the")]
