"""Document-level splits: deterministic, order-independent, exact proportions."""

from __future__ import annotations

import pytest

from sparkner.training.splits import split_keys


def test_same_split_whatever_the_order():
    keys = [f"NCT{i:08d}" for i in range(200)]
    assert split_keys(keys) == split_keys(list(reversed(keys)))
    assert split_keys(keys, seed=1) != split_keys(keys, seed=2)


def test_proportions_and_duplicates():
    keys = [f"doc{i}" for i in range(150)] * 2
    splits = split_keys(keys, fractions=(0.8, 0.1, 0.1))
    counts = {s: list(splits.values()).count(s) for s in ("train", "dev", "test")}
    assert counts == {"train": 120, "dev": 15, "test": 15}


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError, match="fractions"):
        split_keys(["a"], fractions=(0.5, 0.5, 0.5))
