"""A linear-chain CRF: the training loss with TensorFlow ops, Viterbi decoding with numpy.

Scores of a tag path ``y`` over emissions ``e`` (one row per token):
``start[y0] + sum_t e[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_last]``.

Partial labels (:func:`crf_partial_nll`): when only some tokens are labelled, the loss is
``-log P(Y in A) = log Z - log Z_A``, with ``A`` the paths whose every tag its token allows
(Tsuboi et al. 2008, "Training CRFs using incomplete annotations").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from sparkner.ner.tensorflow_import import import_tensorflow

if TYPE_CHECKING:
    import tensorflow as tf
else:  # imported quietly (sparkner.ner.tensorflow_import)
    tf = import_tensorflow()

# Added to the emissions of disallowed tags: finite, so that a token allowing nothing (or a
# padded one) gives no NaN in logsumexp or its gradient, and large enough that exp() of it is 0.
_DISALLOWED = -1e9


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

    return gold - crf_log_norm(emissions, lengths, transitions, start, end)


def crf_log_norm(
    emissions: tf.Tensor,
    lengths: tf.Tensor,
    transitions: tf.Tensor,
    start: tf.Tensor,
    end: tf.Tensor,
) -> tf.Tensor:
    """``log Z`` per sentence [batch]: logsumexp of the scores of all paths (forward)."""
    emissions = tf.convert_to_tensor(emissions)
    lengths = tf.cast(lengths, tf.int32)
    mask = tf.sequence_mask(lengths, tf.shape(emissions)[1], dtype=emissions.dtype)

    # alpha_t = logsumexp(alpha_{t-1} + transitions) + e_t, kept where t >= length.
    alpha0 = start[None, :] + emissions[:, 0, :]
    time_major = tf.transpose(emissions[:, 1:, :], [1, 0, 2])
    mask_major = tf.transpose(mask[:, 1:], [1, 0])[:, :, None]

    def step(alpha: tf.Tensor, inputs: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
        emit, keep = inputs
        moved_alpha = tf.reduce_logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emit
        return keep * moved_alpha + (1.0 - keep) * alpha

    alpha = tf.foldl(step, (time_major, mask_major), initializer=alpha0)
    return tf.reduce_logsumexp(alpha + end[None, :], axis=1)


def crf_partial_nll(
    emissions: tf.Tensor,
    allowed: tf.Tensor,
    lengths: tf.Tensor,
    transitions: tf.Tensor,
    start: tf.Tensor,
    end: tf.Tensor,
) -> tf.Tensor:
    """Negative log-likelihood [batch] of partial labels: ``log Z - log Z_allowed``.

    ``allowed`` [batch, time, tags] (bool or 0/1) marks the tags each token may take: all of
    them for an unlabelled token, only its tag for a labelled one. With exactly the gold tag
    allowed everywhere this is ``-crf_log_likelihood``. Every token within its sentence's
    length must allow at least one tag; positions past it are ignored.
    """
    emissions = tf.convert_to_tensor(emissions)
    lengths = tf.cast(lengths, tf.int32)
    steps = tf.shape(emissions)[1]
    padding = tf.logical_not(tf.sequence_mask(lengths, steps))[:, :, None]
    allowed = tf.logical_or(tf.cast(allowed, tf.bool), padding)
    penalty = tf.where(
        allowed,
        tf.zeros_like(emissions),
        tf.fill(tf.shape(emissions), tf.constant(_DISALLOWED, emissions.dtype)),
    )
    # One forward pass over both: all paths, then the allowed ones.
    both = crf_log_norm(
        tf.concat([emissions, emissions + penalty], axis=0),
        tf.concat([lengths, lengths], axis=0),
        transitions,
        start,
        end,
    )
    batch = tf.shape(emissions)[0]
    return both[:batch] - both[batch:]


def partial_tag_mask(
    length: int,
    spans: Iterable[tuple[int, int, str]],
    tag_names: Sequence[str],
    close_spans: bool = True,
) -> np.ndarray:
    """The tags each token of a partly labelled IOB2 sentence may take, [length, tags] bool.

    ``spans`` are the labelled entities as ``(first token, last token, type)`` (inclusive,
    as :func:`sparkner.ner.tags.tag_spans` gives them). A token inside one gets exactly its
    tag (``B-X`` first, ``I-X`` after). Every other token is unlabelled and may take any tag,
    with one exception when ``close_spans``: the token right after a labelled span may not be
    ``I-X`` of the span's type, since that would make the labelled entity longer than it was
    labelled (its end is known). Nothing else is ruled out: an unlabelled token before a span
    may still be part of another entity, and a span's start is fixed by its ``B-`` tag.
    """
    index = {name: i for i, name in enumerate(tag_names)}
    mask = np.ones((length, len(tag_names)), dtype=bool)
    labelled = np.zeros(length, dtype=bool)
    closed: list[tuple[int, str]] = []
    for first, last, entity in spans:
        if not 0 <= first <= last < length:
            raise ValueError(f"span {first}-{last} is outside a sentence of {length} tokens")
        for position in range(first, last + 1):
            tag = ("B-" if position == first else "I-") + entity
            if tag not in index:
                raise ValueError(f"{tag!r} is not one of the tags {list(tag_names)}")
            if labelled[position]:
                raise ValueError(f"labelled spans overlap at token {position}")
            mask[position] = False
            mask[position, index[tag]] = True
            labelled[position] = True
        closed.append((last + 1, entity))
    if close_spans:
        for position, entity in closed:
            inside = index.get(f"I-{entity}")
            if position < length and not labelled[position] and inside is not None:
                mask[position, inside] = False
    return mask


def stack_masks(masks: Sequence[np.ndarray], steps: int | None = None) -> np.ndarray:
    """Per-sentence masks as one [batch, time, tags] array; padding allows every tag."""
    num_tags = masks[0].shape[1] if masks else 0
    steps = max((len(m) for m in masks), default=0) if steps is None else steps
    out = np.ones((len(masks), steps, num_tags), dtype=bool)
    for b, mask in enumerate(masks):
        out[b, : len(mask)] = mask
    return out


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
