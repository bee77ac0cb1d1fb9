"""Spark NLP's tokenizing rules (targetPattern, contextChars, infixes, prefix, suffix, split
patterns), as its documentation shows them."""

from __future__ import annotations

import pytest

from sparkner.text.rule_tokenizing import RuleSet, check_rule_set, split_spans
from sparkner.text.tokenizing import TokenRules, tokenize_text

DOCSTRING = "I'd like to say we didn't expect that. Jane's boyfriend."


def tokens(text: str, rules: TokenRules) -> list[str]:
    spans = tokenize_text(text, rules)
    assert all(b < e for b, e in spans)
    return [text[b:e] for b, e in spans]


def test_default_rules_give_spark_nlps_docstring_tokens():
    found = tokens(DOCSTRING, TokenRules(spark_nlp=RuleSet()))
    assert found == [
        "I'd", "like", "to", "say", "we", "didn't", "expect", "that", ".", "Jane's",
        "boyfriend", ".",
    ]  # fmt: skip


def test_clinical_rules_split_clitics_unless_told():
    assert len(tokens(DOCSTRING, TokenRules())) == 15
    kept = tokens(DOCSTRING, TokenRules(split_clitics=False))
    assert kept == tokens(DOCSTRING, TokenRules(spark_nlp=RuleSet()))


def test_split_pattern_drops_its_separators_under_both_rules():
    text = "Tokens in this-text will#be#split on hashtags-and#dashes"
    expected = [
        "Tokens",
        "in",
        "this",
        "text",
        "will",
        "be",
        "split",
        "on",
        "hashtags",
        "and",
        "dashes",
    ]
    assert tokens(text, TokenRules(spark_nlp=RuleSet(), split_pattern="-|#")) == expected
    assert tokens(text, TokenRules(split_pattern="-|#")) == expected


def test_infix_groups_are_tokens():
    text = "l'une d'un l'un, des l'extrême"
    rules = RuleSet(infix_patterns=(r"([\p{L}\w]+'{1})([\p{L}\w]+)",))
    assert tokens(text, TokenRules(spark_nlp=rules)) == [
        "l'", "une", "d'", "un", "l'", "un", ",", "des", "l'", "extrême",
    ]  # fmt: skip


def test_target_pattern_context_chars_exceptions_and_split_chars():
    text = "Only lowercase and 0,1 to 7 but not 8 or UPPER."
    found = tokens(text, TokenRules(spark_nlp=RuleSet(target_pattern="[a-z0-7]+")))
    assert "UPPER" not in found and "8" not in found and "lowercase" in found
    rules = RuleSet(context_chars=("(", ")"))
    assert tokens("(pain.)", TokenRules(spark_nlp=rules)) == ["(", "pain.", ")"]
    protected = TokenRules(spark_nlp=RuleSet(), exceptions=("St. Jude",))
    assert tokens("Seen at St. Jude today.", protected)[2] == "St. Jude"
    hyphens = TokenRules(spark_nlp=RuleSet(), split_chars=("-",))
    assert tokens("x-ray done", hyphens) == ["x", "ray", "done"]


def test_offsets_are_the_texts_own_for_odd_text():
    text = "  (Zoë's)  e\u0301 --\t12.5mg!! 😀"
    rules = TokenRules(spark_nlp=RuleSet(), split_pattern="-")
    for b, e in tokenize_text(text, rules):
        assert text[b:e].strip() == text[b:e] and text[b:e]


def test_bad_rule_sets_are_refused():
    with pytest.raises(ValueError, match=r"prefixPattern must begin with \\A"):
        check_rule_set(RuleSet(prefix_pattern="(x)"))
    with pytest.raises(ValueError, match="regex groups"):
        check_rule_set(RuleSet(infix_patterns=("x",)))
    assert split_spans("a--b", 0, 4, None) == [(0, 4)]
