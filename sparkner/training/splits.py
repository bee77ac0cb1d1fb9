"""Deterministic train/dev/test splits by document key (a trial id, a PubMed id)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SPLITS = ("train", "dev", "test")


def split_keys(
    keys: Iterable[str], seed: int = 13, fractions: tuple[float, ...] = (0.8, 0.1, 0.1)
) -> dict[str, str]:
    """Assign each key to train, dev or test.

    Keys are ordered by a seeded hash and cut at the given fractions, so the result depends
    only on the set of keys and the seed, never on the order they come in.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1: {fractions}")
    unique = sorted(set(keys), key=lambda k: hashlib.sha256(f"{seed}:{k}".encode()).hexdigest())
    n_train = round(len(unique) * fractions[0])
    n_dev = round(len(unique) * fractions[1])
    assigned = {}
    for i, key in enumerate(unique):
        assigned[key] = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
    return assigned
