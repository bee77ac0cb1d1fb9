"""The CRF against brute force: the loss is a true log-probability, Viterbi the true argmax."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sparkner.ner.crf import crf_log_likelihood, viterbi_decode


def path_score(emissions, path, transitions, start, end) -> float:
    score = start[path[0]] + end[path[-1]]
    score += sum(emissions[t, tag] for t, tag in enumerate(path))
    score += sum(transitions[a, b] for a, b in itertools.pairwise(path))
    return float(score)


def brute_force(emissions, length, transitions, start, end):
    num_tags = emissions.shape[1]
    paths = list(itertools.product(range(num_tags), repeat=length))
    scores = np.array([path_score(emissions[:length], p, transitions, start, end) for p in paths])
    log_z = np.logaddexp.reduce(scores)
    return paths, scores, log_z


@pytest.fixture
def case():
    rng = np.random.default_rng(7)
    batch, steps, num_tags = 4, 5, 3
    emissions = rng.normal(size=(batch, steps, num_tags)).astype(np.float32)
    transitions = rng.normal(size=(num_tags, num_tags)).astype(np.float32)
    start = rng.normal(size=num_tags).astype(np.float32)
    end = rng.normal(size=num_tags).astype(np.float32)
    lengths = np.array([5, 3, 1, 4])
    tags = rng.integers(0, num_tags, size=(batch, steps))
    return emissions, tags, lengths, transitions, start, end


def test_log_likelihood_equals_brute_force(case):
    emissions, tags, lengths, transitions, start, end = case
    got = crf_log_likelihood(emissions, tags, lengths, transitions, start, end).numpy()
    for b in range(len(lengths)):
        length = lengths[b]
        _, _, log_z = brute_force(emissions[b], length, transitions, start, end)
        gold = path_score(emissions[b, :length], tags[b, :length], transitions, start, end)
        assert got[b] == pytest.approx(gold - log_z, abs=1e-4)


def test_probabilities_of_all_paths_sum_to_one(case):
    emissions, _, _, transitions, start, end = case
    length = 3
    paths = np.array(list(itertools.product(range(3), repeat=length)))
    batch = len(paths)
    tiled = np.repeat(emissions[:1, :length], batch, axis=0)
    log_p = crf_log_likelihood(tiled, paths, np.full(batch, length), transitions, start, end)
    assert np.exp(log_p.numpy()).sum() == pytest.approx(1.0, abs=1e-4)


def test_viterbi_equals_brute_force_argmax(case):
    emissions, _, lengths, transitions, start, end = case
    decoded = viterbi_decode(emissions, lengths, transitions, start, end)
    for b in range(len(lengths)):
        paths, scores, _ = brute_force(emissions[b], lengths[b], transitions, start, end)
        assert tuple(decoded[b, : lengths[b]]) == paths[int(np.argmax(scores))]
        assert (decoded[b, lengths[b] :] == 0).all()


def test_zero_length_and_empty_batches():
    t = np.zeros((2, 2), np.float32)
    z = np.zeros(2, np.float32)
    assert viterbi_decode(np.zeros((1, 0, 2), np.float32), np.array([0]), t, z, z).shape == (1, 0)
    out = viterbi_decode(np.ones((1, 3, 2), np.float32), np.array([0]), t, z, z)
    assert out.tolist() == [[0, 0, 0]]
