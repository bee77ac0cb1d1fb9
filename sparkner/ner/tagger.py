"""Running a trained tagger: batching sentences by length, decoding, confidences.

The same :class:`Tagger` serves validation during training, the Spark UDF and the
LightPipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from sparkner.core.annotation import distinct_strings
from sparkner.ner.crf import viterbi_decode
from sparkner.ner.tensorflow_import import import_tensorflow
from sparkner.ner.threads import configure_threads

# Padded tokens per inference batch: long enough to keep the matrix products busy, short
# enough that one 5,000-token sentence is a batch of its own.
TOKENS_PER_BATCH = 4096
# Words whose char-CNN features a loaded tagger keeps (about 300 bytes each): clinical text
# repeats its words, and a one-note call then skips the char-CNN's TensorFlow call.
CACHED_WORDS = 50_000


def flat_call(function: Any) -> Callable[..., list[Any]]:
    """``function``'s one concrete function (of a fixed input signature) as a call on arrays
    that returns its outputs as a flat list of tensors.

    Calling a concrete function binds its arguments to its Python signature each time (about
    0.5 ms of a 12 ms note); its flat entry point takes the tensors as they are. TensorFlow
    versions without that entry point get the ordinary call."""
    tf = import_tensorflow()

    concrete = function.get_concrete_function()
    call_flat = getattr(concrete, "_call_flat", None)
    if call_flat is None:  # pragma: no cover - other TensorFlow versions
        return lambda *arrays: tf.nest.flatten(concrete(*arrays))
    captured = concrete.captured_inputs
    return lambda *arrays: tf.nest.flatten(
        call_flat([tf.convert_to_tensor(a) for a in arrays], captured)
    )


class Tagger:
    """A loaded network plus its compiled inference function."""

    def __init__(self, network: Any, cache_words: bool = False) -> None:  # a TaggerNetwork
        """``cache_words``: keep each word's char-CNN features between calls; only for a
        network whose weights no longer change (a validator's do, between epochs)."""
        tf = import_tensorflow()

        self.network = network
        self._word_features: dict[str, np.ndarray] | None = {} if cache_words else None
        self.config = network.config
        self._char_index = self.config.char_index()
        dim = self.config.word_dim
        filters = self.config.char_filters
        # Fixed signatures: one trace for every batch shape, no retracing per length. No
        # autograph: the network's Python branches are on settings, not tensors, and autograph
        # writes a source file per function into /tmp that a Spark worker never removes.
        # The fused LSTM kernel: fast on short batches, and inference needs no gradient.
        signature = [
            tf.TensorSpec([None, None, dim], tf.float32),
            tf.TensorSpec([None, None, filters], tf.float32),
            tf.TensorSpec([None], tf.int32),
        ]

        # The CRF's weights come out of the same call: reading three variables costs as much
        # as a small batch's decode, and a validator's network changes between epochs.
        def scores(vectors, char_features, lengths, lexicon=None):
            emissions = network.emissions_from(
                vectors, char_features, lengths, fused=True, lexicon=lexicon
            )
            return emissions, network.transitions, network.start, network.end

        if self.config.lexicon_width:
            # A tagger with lexicon features also takes the tokens' lexicon codes.
            signature = [*signature, tf.TensorSpec([None, None], tf.int32)]
        self._emissions = flat_call(tf.function(scores, input_signature=signature, autograph=False))
        self._word_char_features = flat_call(
            tf.function(
                network.word_char_features,
                input_signature=[tf.TensorSpec([None, None], tf.int32)],
                autograph=False,
            )
        )

    @classmethod
    def load(cls, folder: str, threads: int | None = None) -> Tagger:
        """The tagger saved in ``folder``, for tagging (it keeps its words' char-CNN
        features); TensorFlow is first set to run ``threads`` ops at a time (see
        :func:`~sparkner.ner.threads.configure_threads`). Loads anew on every call: the
        stage that runs it keeps it."""
        configure_threads(threads)
        from sparkner.ner.network import TaggerNetwork

        return cls(TaggerNetwork.load(folder), cache_words=True)

    def char_ids(self, words: pa.Array | Sequence[str]) -> np.ndarray:
        """[words, max_word_chars] character ids, one row per word."""
        table, rows = self.word_char_ids(words)
        return table[rows]

    def word_char_ids(self, words: pa.Array | Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Character ids once per distinct word: ``table`` [distinct + 1, max_word_chars]
        (the last row, a null word's, is padding) and the row of each word in it, ``rows``
        [words]."""
        distinct, rows = distinct_strings(words)
        return self._char_table(distinct.to_pylist()), rows

    def _char_table(self, words: Sequence[str]) -> np.ndarray:
        width = self.config.max_word_chars
        table = np.zeros((len(words) + 1, width), dtype=np.int32)  # last row: a null word
        index = self._char_index
        for row, word in enumerate(words):
            ids = [index.get(ch, 1) for ch in word[:width]]
            table[row, : len(ids)] = ids
        return table

    def word_features(self, words: pa.Array | Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Char-CNN features once per distinct word, [distinct + 1, filters] (the last row, a
        null word's, is zeros), and the row of each word in it, [words]."""
        strings, rows = distinct_strings(words)
        distinct = strings.to_pylist()
        cache = self._word_features
        if cache is None:
            return self._char_features_of(self._char_table(distinct)), rows
        cached = [cache.get(word) for word in distinct]
        missing = [
            word for word, features in zip(distinct, cached, strict=True) if features is None
        ]
        computed: dict[str, np.ndarray] = {}
        if missing:
            features = self._char_features_of(self._char_table(missing))[:-1]  # less padding
            computed = dict(zip(missing, features, strict=True))
            if len(cache) < CACHED_WORDS:
                cache.update(computed)
        found = [computed[w] if f is None else f for w, f in zip(distinct, cached, strict=True)]
        return np.vstack([*found, np.zeros(self.config.char_filters, np.float32)]), rows

    @property
    def uses_lexicon(self) -> bool:
        """Whether the tagger was trained with lexicon features (and needs the codes)."""
        return bool(self.config.lexicon_width)

    def tag(
        self,
        vectors: np.ndarray,
        words: pa.Array | Sequence[str],
        offsets: np.ndarray,
        lexicon: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` for tokens given as text: the char-CNN runs once per distinct word
        (and for a loaded tagger, once per word it has not seen yet)."""
        features, rows = self.word_features(words)
        return self._predict_features(vectors, features, rows, offsets, lexicon)

    def predict(
        self,
        vectors: np.ndarray,
        chars: np.ndarray,
        offsets: np.ndarray,
        char_rows: np.ndarray | None = None,
        lexicon: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Tag ids and per-tag probabilities for every token.

        ``vectors`` [tokens, dim] and ``chars`` [tokens, width] hold the tokens of all
        sentences one after another; ``offsets`` (sentences + 1) says where each starts.
        With ``char_rows`` [tokens], ``chars`` is a table of words instead and token ``i``'s
        character ids are ``chars[char_rows[i]]``. ``lexicon`` [tokens]: the tokens'
        lexicon codes (:func:`sparkner.ner.data.lexicon_codes`), for a tagger trained with
        lexicon features only. Returns tag ids [tokens] and softmax scores [tokens, tags] of
        the emissions.
        """
        char_rows = np.arange(len(chars)) if char_rows is None else char_rows
        return self._predict_features(
            vectors, self._char_features_of(chars), char_rows, offsets, lexicon
        )

    def _predict_features(
        self,
        vectors: np.ndarray,
        word_features: np.ndarray,
        char_rows: np.ndarray,
        offsets: np.ndarray,
        lexicon: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` with the char-CNN features of a word table [words, filters]."""
        if self.uses_lexicon != (lexicon is not None):
            raise ValueError(
                f"this tagger was trained with lexicon features {self.config.lexicon_classes}: "
                "give the tokens' lexicon codes"
                if self.uses_lexicon
                else "this tagger was trained without lexicon features: give no lexicon codes"
            )
        if lexicon is not None and len(lexicon) != len(vectors):
            raise ValueError(f"{len(lexicon)} lexicon codes for {len(vectors)} tokens")
        total = len(vectors)
        tags = np.zeros(total, dtype=np.int64)
        scores = np.zeros((total, self.config.num_tags), dtype=np.float32)
        lengths = np.diff(offsets)
        order = np.argsort(lengths, kind="stable")
        order = order[lengths[order] > 0]
        start = 0
        while start < len(order):
            longest = lengths[order[start]]
            stop = start + 1
            # Sorted by length: grow the batch while its padded size stays in budget.
            while stop < len(order) and lengths[order[stop]] * (stop - start + 1) <= max(
                TOKENS_PER_BATCH, longest
            ):
                stop += 1
            batch = order[start:stop]
            self._predict_batch(
                batch, offsets, lengths, vectors, word_features, char_rows, tags, scores, lexicon
            )
            start = stop
        return tags, scores

    def _char_features_of(self, char_table: np.ndarray) -> np.ndarray:
        """Char-CNN features of each row of ``char_table``, in slices of bounded size."""
        if not len(char_table):
            return np.zeros((0, self.config.char_filters), np.float32)
        # Columns past the longest word hold padding only; one is kept, so that every real
        # character sees the same neighbours as in the full width, and the rest dropped.
        used = np.flatnonzero((char_table != 0).any(axis=0))
        width = min(char_table.shape[1], int(used[-1]) + 2) if len(used) else 1
        trimmed = np.ascontiguousarray(char_table[:, :width])
        step = max(1, TOKENS_PER_BATCH * 4)
        parts = [
            self._word_char_features(trimmed[i : i + step])[0].numpy()
            for i in range(0, len(trimmed), step)
        ]
        return np.concatenate(parts)

    def _predict_batch(
        self,
        sentences: np.ndarray,
        offsets: np.ndarray,
        lengths: np.ndarray,
        vectors: np.ndarray,
        word_features: np.ndarray,
        char_rows: np.ndarray,
        tags: np.ndarray,
        scores: np.ndarray,
        lexicon: np.ndarray | None = None,
    ) -> None:
        steps = int(lengths[sentences].max())
        positions = offsets[sentences][:, None] + np.arange(steps)[None, :]
        valid = np.arange(steps)[None, :] < lengths[sentences][:, None]
        take = np.where(valid, positions, 0)
        batch_vectors = np.where(valid[:, :, None], vectors[take], 0.0).astype(np.float32)
        batch_chars = np.where(valid[:, :, None], word_features[char_rows[take]], 0.0)
        batch_lengths = lengths[sentences].astype(np.int32)
        inputs = [batch_vectors, batch_chars.astype(np.float32), batch_lengths]
        if lexicon is not None:
            inputs.append(np.where(valid, lexicon[take], 0).astype(np.int32))
        emissions, transitions, start, end = (t.numpy() for t in self._emissions(*inputs))
        paths = viterbi_decode(emissions, batch_lengths, transitions, start, end)
        shifted = emissions - emissions.max(axis=-1, keepdims=True)
        probabilities = np.exp(shifted)
        probabilities /= probabilities.sum(axis=-1, keepdims=True)
        flat = positions[valid]
        tags[flat] = paths[valid]
        scores[flat] = probabilities[valid]
