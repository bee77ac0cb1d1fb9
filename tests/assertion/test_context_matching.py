"""The ConText rules' fast paths (match starts found up front, phrases looked up whole, word
counts shared by two scopes) give what the plain loops give."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc

from sparkner.assertion import context
from sparkner.assertion.context import (
    PSEUDO,
    SOMEONE_ELSE,
    ContextRules,
    bundled_rules,
    find_triggers,
    trigger_scopes,
    words_before,
)
from sparkner.training.assertion_spans import chunks_from_spans, text_columns


def plain_triggers(words: list[str], rules: ContextRules) -> list[tuple[int, int, int]]:
    """Every rule tried at every position, in rule order, longest phrases first; then the
    overlaps settled as find_triggers settles them."""
    found = []
    by_length = sorted(range(len(rules.rules)), key=lambda n: -len(rules.rules[n].phrase))
    for i in range(len(words)):
        for number in by_length:
            phrase = rules.rules[number].phrase
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.append((i, i + len(phrase), number))
    found.sort(key=lambda m: (m[0] - m[1], rules.rules[m[2]].direction != PSEUDO, m[0]))
    accepted: list[tuple[int, int, int]] = []
    for start, end, number in found:
        pseudo = rules.rules[number].direction == PSEUDO
        if not any(
            (s <= start and end <= e)
            or ((pseudo or rules.rules[r].direction == PSEUDO) and start < e and s < end)
            for s, e, r in accepted
        ):
            accepted.append((start, end, number))
    return sorted(accepted)


def sentences_of(rules: ContextRules, count: int, seed: int) -> list[list[str]]:
    """Random sentences of rule phrases, their pieces and filler words."""
    generator = random.Random(seed)
    phrases = [list(r.phrase) for r in rules.rules]
    filler = ["fever", "chest", "pain", ",", ".", "the", "patient", "x-ray", "(", "2"]
    sentences = []
    for _ in range(count):
        words: list[str] = []
        while len(words) < generator.randint(1, 40):
            phrase = generator.choice(phrases)
            if generator.random() < 0.3:
                phrase = phrase[: generator.randint(1, len(phrase))]
            words += phrase if generator.random() < 0.6 else [generator.choice(filler)]
        sentences.append(words)
    return sentences


def test_matches_from_the_first_words_are_those_of_every_position():
    rules = bundled_rules()
    for words in sentences_of(rules, 300, seed=5):
        flags = pc.is_in(pa.array(words, pa.string()), value_set=rules.first_words)
        starts = [i for i, flag in enumerate(flags.to_pylist()) if flag]
        expected = plain_triggers(words, rules)
        assert find_triggers(words, rules) == expected
        assert find_triggers(words, rules, starts) == expected


def test_phrase_index_holds_every_rule_once():
    rules = bundled_rules()
    lengths, numbers = rules.phrase_index
    listed = sorted(n for found in numbers.values() for n in found)
    assert listed == list(range(len(rules.rules)))
    for number, rule in enumerate(rules.rules):
        assert number in numbers[rule.phrase]
        assert len(rule.phrase) in lengths[rule.phrase[0]]
    assert all(list(v) == sorted(v, reverse=True) for v in lengths.values())
    assert sorted(rules.first_words.to_pylist()) == sorted(lengths)
    assert rules.pseudo == tuple(r.direction == PSEUDO for r in rules.rules)


def test_shared_word_counts_give_the_same_scopes():
    rules = bundled_rules()
    wide = rules.with_settings(max_scope=30, max_scope_backward=30)
    for words in sentences_of(rules, 200, seed=6):
        counts = words_before(words)
        plain = [0]
        for word in words:
            plain.append(plain[-1] + (word[0].isalnum() or word[-1].isalnum()))
        assert counts == plain
        matches = find_triggers(words, rules)
        for scope_rules in (rules, wide):
            assert trigger_scopes(matches, words, scope_rules, counts) == trigger_scopes(
                matches, words, scope_rules
            )
    # Punctuation is not counted.
    words = ["no", "fever", ",", "chills", ",", "sweats", "or", "rash"]
    assert words_before(words) == [0, 1, 2, 2, 3, 3, 4, 5, 6]


def test_both_ways_of_finding_match_starts_assert_alike(monkeypatch):
    texts = [
        "She denies chest pain but has fever. No evidence of pneumonia; rule out sepsis.",
        "Mother had breast cancer. If the rash returns, call. Patient is not sure of cough.",
    ]
    phrases = [["chest pain", "fever", "pneumonia", "sepsis"], ["breast cancer", "rash", "cough"]]
    spans = [
        [(text.index(p), text.index(p) + len(p) - 1) for p in names]
        for text, names in zip(texts, phrases, strict=True)
    ]
    columns = text_columns(texts)
    chunks = chunks_from_spans(texts, spans, [["PROBLEM"] * len(s) for s in spans])
    rules = bundled_rules()
    found = []
    for threshold in (0, 10**9):  # always Arrow's set lookup; always Python's
        monkeypatch.setattr(context, "_ARROW_LOOKUP_WORDS", threshold)
        asserted = context.assert_chunks(columns["sentence"], columns["token"], chunks, rules)
        found.append(asserted.to_pylist())
    assert found[0] == found[1]
    # Triggers of every kind were found.
    labels = {a["result"] for row in found[0] for a in row}
    assert labels == {"present", "absent", "possible", "hypothetical", SOMEONE_ELSE}
