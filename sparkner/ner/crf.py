"""A linear-chain CRF: the training loss with TensorFlow ops, Viterbi decoding with numpy.

Scores of a tag path ``y`` over emissions ``e`` (one row per token):
``start[y0] + sum_t e[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_last]``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def crf_log_likelihood(
    emissions: tf.Tensor,
    tags: tf.Tensor,
    lengths: tf.Tensor,
    transitions: tf.Tensor,
    start: tf.Tensor,
    end: tf.Tensor,
) -> tf.Tensor:
    """Log-probability of each gold path: ``score(tags) - log Z`` (forward algorithm).

    ``emissions`` [batch, time, tags], ``tags`` [batch, time] int, ``lengths`` [batch] int
    (every length at least 1; positions past a sentence's length are ignored).
    """
    emissions = tf.convert_to_tensor(emissions)
    tags = tf.cast(tags, tf.int32)
    lengths = tf.cast(lengths, tf.int32)
    steps = tf.shape(emissions)[1]
    mask = tf.sequence_mask(lengths, steps, dtype=emissions.dtype)  # [B, T]

    # Score of the gold path.
    emitted = tf.reduce_sum(tf.gather(emissions, tags, batch_dims=2) * mask, axis=1)
    pairs = tf.stack([tags[:, :-1], tags[:, 1:]], axis=-1)
    moved = tf.reduce_sum(tf.gather_nd(transitions, pairs) * mask[:, 1:], axis=1)
    last = tf.gather(tags, lengths - 1, batch_dims=1)
    gold = tf.gather(start, tags[:, 0]) + emitted + moved + tf.gather(end, last)

    # log Z: alpha_t = logsumexp(alpha_{t-1} + transitions) + e_t, kept where t >= length.
    alpha0 = start[None, :] + emissions[:, 0, :]
    time_major = tf.transpose(emissions[:, 1:, :], [1, 0, 2])
    mask_major = tf.transpose(mask[:, 1:], [1, 0])[:, :, None]

    def step(alpha: tf.Tensor, inputs: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
        emit, keep = inputs
        moved_alpha = tf.reduce_logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emit
        return keep * moved_alpha + (1.0 - keep) * alpha

    alpha = tf.foldl(step, (time_major, mask_major), initializer=alpha0)
    log_z = tf.reduce_logsumexp(alpha + end[None, :], axis=1)
    return gold - log_z


def viterbi_decode(
    emissions: np.ndarray,
    lengths: np.ndarray,
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> np.ndarray:
    """Best tag path per sentence, [batch, time] (positions past each length are 0)."""
    batch, steps, num_tags = emissions.shape
    paths = np.zeros((batch, steps), dtype=np.int64)
    if steps == 0:
        return paths
    score = start[None, :] + emissions[:, 0, :]
    backpointers = np.zeros((batch, steps, num_tags), dtype=np.int64)
    for t in range(1, steps):
        candidates = score[:, :, None] + transitions[None, :, :]
        best_prev = candidates.argmax(axis=1)
        best = np.take_along_axis(candidates, best_prev[:, None, :], axis=1)[:, 0, :]
        active = (t < lengths)[:, None]
        score = np.where(active, best + emissions[:, t, :], score)
        backpointers[:, t, :] = best_prev
    last_tag = (score + end[None, :]).argmax(axis=1)
    for b in range(batch):
        length = int(lengths[b])
        if length == 0:
            continue
        tag = last_tag[b]
        paths[b, length - 1] = tag
        for t in range(length - 1, 0, -1):
            tag = backpointers[b, t, tag]
            paths[b, t - 1] = tag
    return paths
