"""The re-ranker: a linear score over features of a (mention, candidate concept) pair, a
softmax over the candidates plus "no concept", trained on mentions with known concepts.

What it takes from the anchors: DNorm learns a pairwise score of mention and name (here a
linear score over similarity features, not DNorm's full bilinear matrix); BioSyn marginalises
over a concept's synonyms (here the probability of a mention's gold concepts is summed, so
a composite mention with several gold concepts is right with any of them, and a concept's
features look at all its aliases among the candidates); scispaCy's linker generates
candidates by character 3-gram TF-IDF (:mod:`.index`). The "no concept" option has a fixed
score of 0 and is the target for training mentions whose concept is not among the
candidates, so a mention like none of the vocabulary gets a low confidence, not a wrong code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEATURES: tuple[str, ...] = (
    "bias",  # a candidate rather than no concept
    "ngram",  # cosine of the best alias's n-gram vector with the mention's
    "ngram_gap",  # that cosine less the best candidate's
    "aliases",  # log(1 + aliases of the concept among the candidates)
    "word_vectors",  # cosine of mean word vectors of mention and alias (best alias)
    "jaccard",  # token set overlap (best alias)
    "mention_covered",  # share of the mention's tokens in the alias
    "alias_covered",  # share of the alias's tokens in the mention
    "head",  # the mention's last token is an alias's last token
    "exact",  # same token multiset as an alias
    "preferred",  # the best alias is the concept's preferred name
    "class_match",  # the concept's class suits the chunk's type (0.5: unknown)
    "prior",  # log(1 + the concept's aliases in the vocabulary) / 5
    "variant",  # found for the mention with synonyms replaced (text.synonym_variant)
)


@dataclass(frozen=True)
class Ranker:
    """Weights of :data:`FEATURES` (same order)."""

    weights: np.ndarray

    def __post_init__(self) -> None:
        if self.weights.shape != (len(FEATURES),):
            raise ValueError(f"a ranker has {len(FEATURES)} weights, got {self.weights.shape}")

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """For (candidates, features): each candidate's probability, "no concept" being the
        rest of the mass."""
        if not len(features):
            return np.zeros(0, np.float64)
        scores = features.astype(np.float64) @ self.weights
        top = max(float(scores.max()), 0.0)
        exp = np.exp(scores - top)
        return exp / (exp.sum() + np.exp(-top))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Ranker:
        names = list(data["features"])  # type: ignore[call-overload]
        if names != list(FEATURES):
            raise ValueError(f"ranker features {names} are not this sparkner's {list(FEATURES)}")
        return cls(np.asarray(data["weights"], np.float64))


# A ranker before training: the n-gram cosine, nudged by exact and head-word matches.
DEFAULT_RANKER = Ranker(
    np.asarray([-4.0, 8.0, 4.0, 0.2, 1.0, 1.0, 0.5, 0.5, 0.5, 2.0, 0.2, 0.5, 0.2, -0.5], np.float64)
)


def train_ranker(
    features: Sequence[np.ndarray],
    gold: Sequence[np.ndarray],
    l2: float = 1e-3,
    steps: int = 600,
    learning_rate: float = 0.05,
    seed: int = 0,
) -> Ranker:
    """Weights that maximise the summed probability of each mention's gold candidates
    (``gold[i]``: a boolean per candidate of ``features[i]``; none true: "no concept" is the
    answer), with an L2 penalty, by full-batch Adam."""
    width = len(FEATURES)
    most = max((len(f) for f in features), default=0)
    count = len(features)
    x = np.zeros((count, max(most, 1), width), np.float64)
    valid = np.zeros((count, max(most, 1)), bool)
    target = np.zeros((count, max(most, 1)), bool)
    for i, (f, g) in enumerate(zip(features, gold, strict=True)):
        x[i, : len(f)] = f
        valid[i, : len(f)] = True
        target[i, : len(g)] = g
    to_null = ~target.any(axis=1)
    weights = DEFAULT_RANKER.weights.copy()
    rng = np.random.default_rng(seed)
    weights += rng.normal(0.0, 0.01, width)
    m, v = np.zeros(width), np.zeros(width)
    for step in range(1, steps + 1):
        scores = np.where(valid, x @ weights, -np.inf)
        top = np.maximum(scores.max(axis=1), 0.0)
        exp = np.where(valid, np.exp(scores - top[:, None]), 0.0)
        null = np.exp(-top)
        total = exp.sum(axis=1) + null
        prob = exp / total[:, None]
        # d(-log sum_gold p)/d score_j = p_j - [j gold] p_j / sum_gold p
        gold_mass = np.where(target, prob, 0.0).sum(axis=1)
        gold_mass = np.where(to_null, null / total, gold_mass)
        wanted = np.where(target, prob / np.maximum(gold_mass, 1e-300)[:, None], 0.0)
        grad_scores = prob - wanted
        gradient = np.einsum("mk,mkf->f", grad_scores, x) / count + l2 * weights
        m = 0.9 * m + 0.1 * gradient
        v = 0.999 * v + 0.001 * gradient * gradient
        m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
        weights -= learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return Ranker(weights)
