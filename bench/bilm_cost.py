"""Cost, on this machine's CPU, of a lever not built: a bidirectional LSTM language model
pretrained on the unlabelled text, whose hidden states a tagger would read beside the word
vectors (issue 16, item 5; TagLM-style).

Times three things on random data of the bundled vectors' shape (the cost does not depend on
the values): one training step of the language model (forward and backward LSTMs over fixed
word vectors, each predicting the next word through a sampled softmax over the vocabulary),
its inference (both directions' hidden states, the features a tagger would read) and, for
scale, the shipped tagger's own BiLSTM of 100 units over the same batch. Prints tokens per
second as the median of several runs after one warm-up, and the training time of one epoch
over the tokens the bundled vectors are built from (their ``build.json``). TensorFlow runs one
thread per op, as sparkner's tagger does, with ``--ops-at-once`` ops at a time: 2 is how
``sparkner train`` runs it in the driver (read the training figures there), 1 how the tagger
runs on one executor core (read the inference figures there; they compare with the pipeline's
tokens/s on ``local[1]``).

    python bench/bilm_cost.py [--units 256 128] [--runs 5] [--ops-at-once 1]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from bench_support import median_rate

from sparkner.ner.threads import configure_threads
from sparkner.resources import bundled_folder


def tokens_per_second(step: Callable[[], object], tokens: int, calls: int, runs: int) -> float:
    # one timed run is `calls` steps, so that a run is long enough to time
    rate, _ = median_rate(tokens * calls, lambda: [step() for _ in range(calls)], runs)
    return rate


def measure(units: int, args: argparse.Namespace) -> dict[str, float]:
    rng = np.random.default_rng(1)
    vectors = tf.constant(rng.standard_normal((args.vocab, args.dimension)), tf.float32)
    forward = tf.keras.layers.LSTM(units, return_sequences=True)
    backward = tf.keras.layers.LSTM(units, return_sequences=True, go_backwards=True)
    projections = [tf.keras.layers.Dense(args.dimension) for _ in range(2)]
    initial = rng.standard_normal((args.vocab, args.dimension)) * 0.01
    softmax_weights = tf.Variable(initial, dtype=tf.float32)
    softmax_bias = tf.Variable(tf.zeros(args.vocab))
    optimizer = tf.keras.optimizers.Adam(1e-3)

    def next_word_loss(hidden, projection, targets):
        inputs = tf.reshape(projection(hidden), (-1, args.dimension))
        labels = tf.reshape(targets, (-1, 1))
        losses = tf.nn.sampled_softmax_loss(
            softmax_weights, softmax_bias, labels, inputs, args.sampled, args.vocab
        )
        return tf.reduce_mean(losses)

    @tf.function
    def train_step(ids):
        embedded = tf.nn.embedding_lookup(vectors, ids)
        with tf.GradientTape() as tape:
            # the backward LSTM reads the sequence reversed, so its targets are reversed too
            reversed_targets = tf.reverse(ids[:, :-1], [1])
            loss = next_word_loss(forward(embedded[:, :-1]), projections[0], ids[:, 1:])
            loss += next_word_loss(backward(embedded[:, 1:]), projections[1], reversed_targets)
        variables = [softmax_weights, softmax_bias] + [
            v for layer in (forward, backward, *projections) for v in layer.trainable_variables
        ]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    @tf.function
    def features(ids):
        embedded = tf.nn.embedding_lookup(vectors, ids)
        return tf.concat([forward(embedded), tf.reverse(backward(embedded), [1])], -1)

    tagger = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(100, return_sequences=True))

    @tf.function
    def tagger_pass(ids):
        return tagger(tf.nn.embedding_lookup(vectors, ids))

    ids = tf.constant(rng.integers(0, args.vocab, (args.batch, args.steps + 1)), tf.int32)
    window = ids[:, : args.steps]
    tokens = args.batch * args.steps
    return {
        "training": tokens_per_second(lambda: train_step(ids), tokens, 20, args.runs),
        "features": tokens_per_second(lambda: features(window), tokens, 40, args.runs),
        "tagger": tokens_per_second(lambda: tagger_pass(window), tokens, 40, args.runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[256, 128], help="per direction")
    parser.add_argument("--runs", type=int, default=5)
    # the bundled vectors' shape and training text by default
    vectors = bundled_folder("embeddings_clinical", "store.json", "embeddings")
    store = json.loads((vectors / "store.json").read_text(encoding="utf-8"))
    corpus_tokens = json.loads((vectors / "build.json").read_text(encoding="utf-8"))["tokens"]
    parser.add_argument("--vocab", type=int, default=store["count"], help="words in the vocabulary")
    parser.add_argument("--dimension", type=int, default=store["dimension"])
    parser.add_argument("--sampled", type=int, default=1024, help="sampled softmax classes")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50, help="tokens per sequence")
    parser.add_argument("--ops-at-once", type=int, default=1, help="TensorFlow ops run at once")
    args = parser.parse_args()
    configure_threads(args.ops_at_once)
    for units in args.units:
        rates = measure(units, args)
        epoch_minutes = corpus_tokens / rates["training"] / 60
        print(
            f"units {units}: language model training {rates['training']:,.0f} tokens/s "
            f"({epoch_minutes:.0f} min per epoch over {corpus_tokens:,} tokens); "
            f"its features {rates['features']:,.0f} tokens/s; "
            f"the tagger's BiLSTM(100) {rates['tagger']:,.0f} tokens/s"
        )


if __name__ == "__main__":
    main()
