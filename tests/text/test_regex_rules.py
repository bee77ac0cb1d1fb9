"""RegexMatcher's engine: rules, strategies, offsets."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sparkner.annotators.document_assembler import assemble_documents
from sparkner.core.annotation import AnnotationBatch
from sparkner.text.regex_rules import match_rules, parse_rule, read_rules

TEXT = "Gave 10 mg of ASA, then 5mg."
RULES = (r"\d+ ?mg,DOSE", r"\b[A-Z]{2,}\b,ACRONYM")


def chunks(texts, **settings):
    batch = AnnotationBatch(match_rules(assemble_documents(pa.array(texts)), **settings))
    return [
        (a["begin"], a["end"], a["result"], dict(a["metadata"]))
        for a in batch.annotations.to_pylist()
    ]


def test_match_all_in_text_order_with_true_offsets():
    found = chunks([TEXT, None, ""], rules=RULES)
    assert [(r, m["identifier"], m["chunk"]) for _, _, r, m in found] == [
        ("10 mg", "DOSE", "0"),
        ("ASA", "ACRONYM", "1"),
        ("5mg", "DOSE", "2"),
    ]
    assert all(TEXT[b : e + 1] == r for b, e, r, _ in found)
    assert found[0][3]["entity"] == "DOSE"


def test_match_first_and_complete():
    assert [r for _, _, r, _ in chunks([TEXT], rules=RULES, strategy="MATCH_FIRST")] == [
        "10 mg",
        "ASA",
    ]
    complete = (r"[A-Z]+,WORD", r".*mg\.,ALL")
    assert [
        r for _, _, r, _ in chunks(["ASA", TEXT], rules=complete, strategy="MATCH_COMPLETE")
    ] == [
        "ASA",
        TEXT,
    ]


def test_rules_and_files_are_checked(tmp_path):
    assert parse_rule(r"a,b|c,X", ",", "here") == ("a,b|c", "X")
    with pytest.raises(ValueError, match="here: expected"):
        parse_rule("no delimiter", ",", "here")
    path = tmp_path / "rules.txt"
    path.write_text("\\d+~NUM\n\n(bad~X\n")
    with pytest.raises(ValueError, match=r"rules.txt, line 3: '\(bad'"):
        read_rules(str(path), "~")
