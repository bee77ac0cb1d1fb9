"""Java patterns as Spark NLP users write them, run by Python's re."""

from __future__ import annotations

import pytest

from sparkner.text.java_regex import JavaRegexError, compile_java, java_regex_problem, translate


def test_unicode_classes_inside_and_outside_brackets():
    assert compile_java(r"\p{L}+").findall("Zoë 12 über") == ["Zoë", "über"]
    assert compile_java(r"[\p{L}\d]+").findall("ab12 €") == ["ab12"]
    assert compile_java(r"[^\pL+]").sub("", "a1+é!") == "a+é"
    assert compile_java(r"\P{L}+").findall("ab12cd") == ["12"]
    assert compile_java(r"\p{Lu}\p{Ll}+").findall("Chest pain, Fever") == ["Chest", "Fever"]


def test_end_anchors_and_quoting():
    assert compile_java(r"ab\z").search("ab\n") is None
    assert compile_java(r"ab\Z").search("ab\n") is not None
    assert translate(r"\Q.*\E") == r"\.\*"
    assert compile_java(r"\Q1+1\E").fullmatch("1+1")


def test_nested_classes_are_unions():
    assert compile_java(r"[a[b]]+").fullmatch("abba")


def test_bad_patterns_are_named():
    with pytest.raises(JavaRegexError, match=r"'\(ab' is not a usable"):
        compile_java("(ab")
    with pytest.raises(JavaRegexError, match="negated class"):
        compile_java(r"[\P{L}x]")
    assert java_regex_problem(["ok", "(bad"]) is not None
    assert java_regex_problem([r"\p{L}"]) is None
