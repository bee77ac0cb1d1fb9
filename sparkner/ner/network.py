"""The tagger network in TensorFlow 2: char-CNN + word vectors -> BiLSTM -> CRF emissions.

Weights are plain ``tf.Variable``s of a ``tf.Module``, saved as named numpy arrays (``.npz``,
no pickle) beside a JSON config; the same module serves training and inference. The config
and the file names live in :mod:`sparkner.ner.config`, which does not import TensorFlow.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sparkner.ner.config import (
    CONFIG_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    PAD_CHAR,
    WEIGHTS_FILE,
    TaggerConfig,
    TaggerFileError,
    read_config,
    read_weights,
)
from sparkner.ner.tensorflow_import import import_tensorflow

if TYPE_CHECKING:
    import tensorflow as tf
else:  # imported quietly (sparkner.ner.tensorflow_import)
    tf = import_tensorflow()


class TaggerEncoder(tf.Module):
    """The encoder: char-CNN features and word vectors (and lexicon codes) through the BiLSTM.
    A :class:`TaggerNetwork` is an encoder with an output projection and a CRF; the heads of a
    multi-head network (:mod:`sparkner.ner.multihead`) share one encoder."""

    def __init__(self, config: TaggerConfig, seed: int = 0) -> None:
        super().__init__(name="tagger")
        self.config = config
        init = tf.keras.initializers.GlorotUniform(seed=seed)
        c = config
        self.char_embeddings = tf.Variable(
            tf.random.stateless_uniform([len(c.chars) + 2, c.char_dim], [seed, 1], -0.5, 0.5),
            name="char_embeddings",
        )
        self.char_kernel = tf.Variable(
            init([c.char_width, c.char_dim, c.char_filters]), name="char_kernel"
        )
        self.char_bias = tf.Variable(tf.zeros([c.char_filters]), name="char_bias")
        self.lstm: list[tuple[tf.Variable, tf.Variable, str]] = []
        width = c.word_dim + c.char_filters + c.lexicon_width
        for layer in range(c.layers):
            for direction in ("fw", "bw"):
                kernel = tf.Variable(
                    init([width + c.hidden, 4 * c.hidden]), name=f"lstm{layer}_{direction}_kernel"
                )
                # Forget-gate bias of 1, as is usual, so early training keeps its memory.
                bias = np.zeros(4 * c.hidden, np.float32)
                bias[c.hidden : 2 * c.hidden] = 1.0
                self.lstm.append(
                    (kernel, tf.Variable(bias, name=f"lstm{layer}_{direction}_bias"), direction)
                )
            width = 2 * c.hidden

    @property
    def output_width(self) -> int:
        """The width of :meth:`encode`'s features: what an output projection takes."""
        c = self.config
        return 2 * c.hidden if c.layers else c.word_dim + c.char_filters + c.lexicon_width

    def char_features(self, chars: tf.Tensor) -> tf.Tensor:
        """The char-CNN features [batch, time, filters] of character ids [batch, time, chars]."""
        shape = tf.shape(chars)
        per_word = self.word_char_features(tf.reshape(chars, [-1, shape[2]]))
        return tf.reshape(per_word, [shape[0], shape[1], self.config.char_filters])

    def encode(
        self,
        vectors: tf.Tensor,
        char_features: tf.Tensor,
        lengths: tf.Tensor,
        dropout_rate: float | tf.Tensor = 0.0,
        noise: tf.random.Generator | None = None,
        fused: bool = False,
        lexicon: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """The BiLSTM's output [batch, time, 2 * hidden] from word vectors [batch, time, dim],
        the tokens' character features [batch, time, filters] (:meth:`char_features`) and
        sentence lengths [batch]; an output projection makes tag scores of it. ``fused=True``
        runs the LSTM in one kernel per direction, for inference only (its gradient is wrong).

        A tagger trained with lexicon features (``config.lexicon_classes``) also takes the
        tokens' lexicon codes [batch, time] (0: O, 1 + 2c: B of class c, 2 + 2c: I of c),
        fed to the BiLSTM as a one-hot beside the word vector and the char features."""
        parts = [vectors, char_features]
        width = self.config.lexicon_width
        if width:
            if lexicon is None:
                raise ValueError(
                    "this tagger was trained with lexicon features "
                    f"({self.config.lexicon_classes}): give the tokens' lexicon codes"
                )
            parts.append(tf.one_hot(tf.cast(lexicon, tf.int32), width, dtype=vectors.dtype))
        elif lexicon is not None:
            raise ValueError("this tagger was trained without lexicon features")
        features = tf.concat(parts, axis=-1)
        features = _dropout(features, dropout_rate, noise)
        # Each layer's "fw" direction, then its "bw" one.
        layers = zip(self.lstm[0::2], self.lstm[1::2], strict=True)
        for (fw_kernel, fw_bias, _), (bw_kernel, bw_bias, _) in layers:
            forward = _lstm(features, lengths, fw_kernel, fw_bias, reverse=False, fused=fused)
            backward = _lstm(features, lengths, bw_kernel, bw_bias, reverse=True, fused=fused)
            features = _dropout(tf.concat([forward, backward], -1), dropout_rate, noise)
        return features

    def word_char_features(self, chars: tf.Tensor) -> tf.Tensor:
        """The char-CNN's max-pooled features [words, filters] of character ids [words, chars];
        a word of padding only gets zeros."""
        embedded = tf.nn.embedding_lookup(self.char_embeddings, chars)
        conv = tf.nn.conv1d(embedded, self.char_kernel, stride=1, padding="SAME") + self.char_bias
        present = tf.cast(chars != PAD_CHAR, tf.float32)[:, :, None]
        # Max over the real characters only.
        pooled = tf.reduce_max(conv * present - 1e9 * (1.0 - present), axis=1)
        return pooled * tf.reduce_max(present, axis=1)

    def head_emissions(
        self,
        kernel: tf.Tensor,
        bias: tf.Tensor,
        vectors: tf.Tensor,
        chars: tf.Tensor,
        lengths: tf.Tensor,
        **encoding: Any,
    ) -> tf.Tensor:
        """Tag scores [batch, time, tags] of the output projection ``kernel``, ``bias`` on
        this encoder, from word vectors [batch, time, dim], character ids [batch, time, chars]
        and sentence lengths [batch]: the training path, differentiable (the LSTM as a scan).
        ``encoding``: the keywords of :meth:`encode` (``dropout_rate``, ``noise``,
        ``lexicon``)."""
        features = self.encode(vectors, self.char_features(chars), lengths, **encoding)
        return project(features, kernel, bias)


class TaggerNetwork(TaggerEncoder):
    """A tagger: the encoder, its output projection to tag scores, and the CRF's weights."""

    def __init__(self, config: TaggerConfig, seed: int = 0) -> None:
        super().__init__(config, seed)
        init = tf.keras.initializers.GlorotUniform(seed=seed)  # stateless: as the encoder's
        c = config
        self.out_kernel = tf.Variable(init([self.output_width, c.num_tags]), name="out_kernel")
        self.out_bias = tf.Variable(tf.zeros([c.num_tags]), name="out_bias")
        self.transitions = tf.Variable(tf.zeros([c.num_tags, c.num_tags]), name="transitions")
        self.start = tf.Variable(tf.zeros([c.num_tags]), name="start")
        self.end = tf.Variable(tf.zeros([c.num_tags]), name="end")

    # -- the forward pass -----------------------------------------------------------------
    def emissions(
        self, vectors: tf.Tensor, chars: tf.Tensor, lengths: tf.Tensor, **encoding: Any
    ) -> tf.Tensor:
        """Per-token tag scores [batch, time, tags]: :meth:`TaggerEncoder.head_emissions` of
        this tagger's output projection (the training path). ``encoding``: the keywords of
        :meth:`TaggerEncoder.encode` (``dropout_rate``, ``noise``, ``lexicon``)."""
        return self.head_emissions(
            self.out_kernel, self.out_bias, vectors, chars, lengths, **encoding
        )

    def emissions_from(
        self, vectors: tf.Tensor, char_features: tf.Tensor, lengths: tf.Tensor, **encoding: Any
    ) -> tf.Tensor:
        """Tag scores from word vectors and the tokens' character features [batch, time,
        filters] (inference computes those once per distinct word); ``encoding``: the keywords
        of :meth:`TaggerEncoder.encode` (with ``fused=True`` for inference)."""
        features = self.encode(vectors, char_features, lengths, **encoding)
        return project(features, self.out_kernel, self.out_bias)

    # -- saving and loading ---------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        config = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **asdict(self.config)}
        if not config["lexicon_classes"]:
            del config["lexicon_classes"]  # a tagger without lexicon features: as before
        (path / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n")
        np.savez(path / WEIGHTS_FILE, **{v.name.split(":")[0]: v.numpy() for v in self.variables})

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TaggerNetwork:
        config = read_config(folder)
        network = cls(config)
        path = Path(folder) / WEIGHTS_FILE
        stored = read_weights(path)
        for variable in network.variables:
            name = variable.name.split(":")[0]
            if name not in stored or stored[name].shape != tuple(variable.shape):
                raise TaggerFileError(
                    f"{path}: weight {name!r} is missing or has the wrong shape for the config"
                )
            variable.assign(stored[name])
        return network


def project(features: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """Tag scores [batch, time, tags] of encoder features [batch, time, width]."""
    return tf.einsum("btd,dk->btk", features, kernel) + bias


def _dropout(x: tf.Tensor, rate: float | tf.Tensor, noise: tf.random.Generator | None) -> tf.Tensor:
    if noise is None:
        return x
    keep = 1.0 - rate
    return x * tf.cast(noise.uniform(tf.shape(x)) < keep, x.dtype) / keep


def _lstm(
    inputs: tf.Tensor,
    lengths: tf.Tensor,
    kernel: tf.Tensor,
    bias: tf.Tensor,
    reverse: bool,
    fused: bool,
) -> tf.Tensor:
    """One LSTM direction over right-padded sequences [batch, time, dim]; outputs zeros at
    padding. ``kernel`` has rows [inputs; h] and gate columns i, f, g, o. The backward
    direction reverses each sentence within its own length, so it starts at the real end."""
    steps = tf.shape(inputs)[1]
    x = tf.transpose(inputs, [1, 0, 2])
    if reverse:
        x = tf.reverse_sequence(x, lengths, seq_axis=0, batch_axis=1)
    hs = (_fused_steps if fused else _scanned_steps)(x, kernel, bias)
    if reverse:
        hs = tf.reverse_sequence(hs, lengths, seq_axis=0, batch_axis=1)
    mask = tf.sequence_mask(lengths, steps, dtype=hs.dtype)
    return tf.transpose(hs, [1, 0, 2]) * mask[:, :, None]


def _fused_steps(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """All time steps of [time, batch, dim] in TensorFlow's fused ``BlockLSTMV2`` kernel,
    whose weight layout is ours. For inference only: its registered gradient disagrees with
    finite differences (and training with it stalls), so training steps with a scan."""
    hidden = tf.shape(kernel)[1] // 4
    zeros = tf.zeros([tf.shape(x)[1], hidden])
    no_peephole = tf.zeros([hidden])
    return tf.raw_ops.BlockLSTMV2(
        seq_len_max=tf.cast(tf.shape(x)[0], tf.int64),
        x=x,
        cs_prev=zeros,
        h_prev=zeros,
        w=kernel,
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=bias,
        cell_clip=0.0,
        use_peephole=False,
    )[6]


def _scanned_steps(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """The same recurrence as a ``tf.scan`` of TensorFlow ops (differentiable); a dozen ops
    per step, which makes it the slower choice for inference on short batches."""
    in_dim = tf.shape(x)[2]
    projected = tf.einsum("tbd,dk->tbk", x, kernel[:in_dim]) + bias
    recurrent = kernel[in_dim:]
    zeros = tf.zeros([tf.shape(x)[1], tf.shape(kernel)[1] // 4])

    def step(state: tuple[tf.Tensor, tf.Tensor], z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        h, c = state
        i, f, g, o = tf.split(z + tf.matmul(h, recurrent), 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    hs, _ = tf.scan(step, projected, initializer=(zeros, zeros))
    return hs
