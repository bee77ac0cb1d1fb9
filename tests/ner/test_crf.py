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


# -- partial labels ---------------------------------------------------------------------
def random_partial_case(seed: int):
    """A batch of tiny sentences (3 tags, lengths 1-4, padded) with random allowed tags."""
    rng = np.random.default_rng(seed)
    batch, steps, num_tags = 5, 4, 3
    emissions = rng.normal(scale=2.0, size=(batch, steps, num_tags)).astype(np.float32)
    transitions = rng.normal(size=(num_tags, num_tags)).astype(np.float32)
    start = rng.normal(size=num_tags).astype(np.float32)
    end = rng.normal(size=num_tags).astype(np.float32)
    lengths = rng.integers(1, steps + 1, size=batch)
    allowed = rng.random((batch, steps, num_tags)) < 0.5
    for b, t in itertools.product(range(batch), range(steps)):
        if not allowed[b, t].any():
            allowed[b, t, rng.integers(num_tags)] = True
        if t >= lengths[b]:  # padding: any value, it must be ignored
            allowed[b, t] = rng.random(num_tags) < 0.5
    return emissions, allowed, lengths, transitions, start, end


@pytest.mark.parametrize("seed", range(6))
def test_partial_nll_equals_brute_force_over_consistent_paths(seed):
    from sparkner.ner.crf import crf_partial_nll

    emissions, allowed, lengths, transitions, start, end = random_partial_case(seed)
    got = crf_partial_nll(emissions, allowed, lengths, transitions, start, end).numpy()
    for b in range(len(lengths)):
        length = lengths[b]
        paths, scores, log_z = brute_force(emissions[b], length, transitions, start, end)
        consistent = [all(allowed[b, t, tag] for t, tag in enumerate(p)) for p in paths]
        log_z_allowed = np.logaddexp.reduce(scores[np.array(consistent)])
        assert got[b] == pytest.approx(log_z - log_z_allowed, abs=1e-4)
    assert (got >= -1e-5).all()  # a probability is at most 1


def test_partial_nll_with_every_tag_known_is_the_ordinary_loss(case):
    from sparkner.ner.crf import crf_partial_nll

    emissions, tags, lengths, transitions, start, end = case
    one_hot = np.eye(3, dtype=bool)[tags]
    got = crf_partial_nll(emissions, one_hot, lengths, transitions, start, end).numpy()
    ordinary = -crf_log_likelihood(emissions, tags, lengths, transitions, start, end).numpy()
    np.testing.assert_allclose(got, ordinary, atol=1e-4)
    # Nothing known: every path is consistent, the loss is 0.
    nothing = crf_partial_nll(emissions, np.ones_like(one_hot), lengths, transitions, start, end)
    np.testing.assert_allclose(nothing.numpy(), 0.0, atol=1e-4)


def test_partial_nll_gradients_are_finite():
    import tensorflow as tf

    from sparkner.ner.crf import crf_partial_nll

    emissions, allowed, lengths, transitions, start, end = random_partial_case(11)
    allowed[0, 0] = False  # even a token allowing nothing gives no NaN
    variables = [tf.Variable(x) for x in (emissions, transitions, start, end)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(crf_partial_nll(variables[0], allowed, lengths, *variables[1:]))
    gradients = tape.gradient(loss, variables)
    assert np.isfinite(loss.numpy())
    for gradient in gradients:
        assert np.isfinite(gradient.numpy()).all()
    assert np.abs(gradients[0].numpy()).sum() > 0
    # Tokens past a sentence's length get no gradient.
    for b, length in enumerate(lengths):
        assert (gradients[0].numpy()[b, length:] == 0).all()


TAGS = ["O", "B-PROBLEM", "I-PROBLEM", "B-TEST", "I-TEST"]


def allowed_names(mask) -> list[list[str]]:
    return [[TAGS[k] for k in np.flatnonzero(row)] for row in mask]


def test_partial_tag_mask_labels_spans_and_closes_them():
    from sparkner.ner.crf import partial_tag_mask

    # "severe chest pain on CT today": "chest pain" a PROBLEM and "CT" a TEST are labelled.
    mask = partial_tag_mask(6, [(1, 2, "PROBLEM"), (4, 4, "TEST")], TAGS)
    assert mask.shape == (6, 5) and mask.dtype == bool
    assert allowed_names(mask) == [
        TAGS,  # unlabelled, before a span: anything (it may begin another entity)
        ["B-PROBLEM"],
        ["I-PROBLEM"],
        ["O", "B-PROBLEM", "B-TEST", "I-TEST"],  # right after the PROBLEM: not I-PROBLEM
        ["B-TEST"],
        ["O", "B-PROBLEM", "I-PROBLEM", "B-TEST"],  # right after the TEST: not I-TEST
    ]
    opened = partial_tag_mask(6, [(1, 2, "PROBLEM"), (4, 4, "TEST")], TAGS, close_spans=False)
    assert allowed_names(opened)[3] == TAGS and allowed_names(opened)[5] == TAGS
    # Adjacent spans: the second span's B- tag is kept, not closed off.
    assert allowed_names(partial_tag_mask(2, [(0, 0, "TEST"), (1, 1, "TEST")], TAGS)) == [
        ["B-TEST"],
        ["B-TEST"],
    ]
    assert partial_tag_mask(3, [], TAGS).all()


def test_partial_tag_mask_rejects_bad_spans():
    from sparkner.ner.crf import partial_tag_mask

    with pytest.raises(ValueError, match="outside a sentence of 3 tokens"):
        partial_tag_mask(3, [(2, 3, "TEST")], TAGS)
    with pytest.raises(ValueError, match="'B-DRUG' is not one of the tags"):
        partial_tag_mask(3, [(0, 0, "DRUG")], TAGS)
    with pytest.raises(ValueError, match="overlap at token 1"):
        partial_tag_mask(3, [(0, 1, "TEST"), (1, 2, "PROBLEM")], TAGS)


def test_masks_from_partial_spans_give_a_loss_that_brute_force_agrees_with():
    from sparkner.ner.crf import crf_partial_nll, partial_tag_mask, stack_masks
    from sparkner.ner.tags import tag_spans

    # Two sentences, tags O / B-TEST / I-TEST; None marks an unlabelled token.
    names = ["O", "B-TEST", "I-TEST"]
    partial = [[None, "B-TEST", "I-TEST", None], ["B-TEST", None]]
    masks = [partial_tag_mask(len(p), tag_spans(p), names) for p in partial]
    allowed = stack_masks(masks)
    assert allowed.shape == (2, 4, 3) and allowed[1, 2:].all()  # padding allows everything
    rng = np.random.default_rng(3)
    emissions = rng.normal(size=(2, 4, 3)).astype(np.float32)
    transitions, start, end = (rng.normal(size=s).astype(np.float32) for s in [(3, 3), 3, 3])
    lengths = np.array([4, 2])
    got = crf_partial_nll(emissions, allowed, lengths, transitions, start, end).numpy()
    for b, length in enumerate(lengths):
        paths, scores, log_z = brute_force(emissions[b], length, transitions, start, end)
        ok = np.array([all(masks[b][t, k] for t, k in enumerate(p)) for p in paths])
        # Sentence 0 has 3 choices for token 0 and 2 (not I-TEST) for token 3.
        assert ok.sum() == (6 if b == 0 else 2)
        assert got[b] == pytest.approx(log_z - np.logaddexp.reduce(scores[ok]), abs=1e-4)
