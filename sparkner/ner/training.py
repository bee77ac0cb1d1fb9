"""Training the tagger: compact data in the driver, length-bucketed batches, Adam, early stop.

The training set is held as a few numpy arrays, not Python objects: one vector per distinct
word, and int32 word ids / int16 tag ids per token, so 100k sentences fit in a small driver.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sparkner.ner.data import SentenceSet, TrainingData
from sparkner.ner.metrics import evaluate_tags


@dataclass
class TrainingSettings:
    max_epochs: int = 30
    lr: float = 1e-3
    po: float = 0.005
    batch_size: int = 16
    dropout: float = 0.5
    patience: int = 5
    seed: int = 0
    use_best_model: bool = True
    verbose: bool = True
    log: Callable[[str], None] | None = None


@dataclass
class EpochRecord:
    epoch: int
    loss: float
    seconds: float
    validation: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)


class Adam:
    """Adam for plain tf.Variables (Keras optimizers want Keras variables)."""

    def __init__(self, variables, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        import tensorflow as tf

        self.variables = variables
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.t = tf.Variable(0.0, trainable=False)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def apply(self, grads, lr) -> None:
        import tensorflow as tf

        self.t.assign_add(1.0)
        correction = tf.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        for var, g, m, v in zip(self.variables, grads, self.m, self.v, strict=True):
            g = tf.convert_to_tensor(g)
            m.assign(self.beta1 * m + (1.0 - self.beta1) * g)
            v.assign(self.beta2 * v + (1.0 - self.beta2) * g * g)
            var.assign_sub(lr * correction * m / (tf.sqrt(v) + self.eps))


def batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Sentences grouped with others of similar length (little padding), in random order."""
    order = np.argsort(lengths + rng.random(len(lengths)), kind="stable")
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(groups)
    return groups


def batch_positions(sentences: SentenceSet, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a batch's tokens are in the flat token arrays, [batch, steps] (0 at padding),
    and which of those are real tokens, not padding."""
    lengths = sentences.lengths[chosen]
    steps = int(lengths.max())
    positions = sentences.offsets[chosen][:, None] + np.arange(steps)[None, :]
    valid = np.arange(steps)[None, :] < lengths[:, None]
    return np.where(valid, positions, 0), valid


def padded(data: TrainingData, sentences: SentenceSet, chars: np.ndarray, chosen: np.ndarray):
    """Padded arrays for a batch: vectors, char ids, tag ids, lengths, and the lexicon
    codes where the sentences have them."""
    lengths = sentences.lengths[chosen]
    take, valid = batch_positions(sentences, chosen)
    ids = np.where(valid, sentences.word_ids[take], -1)
    vectors = np.where(valid[:, :, None], data.vectors[ids], 0.0).astype(np.float32)
    char_ids = np.where(valid[:, :, None], chars[ids], 0).astype(np.int32)
    tags = np.where(valid, sentences.tag_ids[take], 0).astype(np.int32)
    arrays = (vectors, char_ids, tags, lengths.astype(np.int32))
    if sentences.lexicon is None:
        return arrays
    return (*arrays, np.where(valid, sentences.lexicon[take], 0).astype(np.int32))


def padded_allowed(allowed: np.ndarray, sentences: SentenceSet, chosen: np.ndarray) -> np.ndarray:
    """A batch's allowed tags [batch, steps, tags] from the per-token ones [tokens, tags] of
    partly labelled sentences (:func:`sparkner.ner.crf.partial_tag_mask`); padding allows all."""
    take, valid = batch_positions(sentences, chosen)
    return np.where(valid[:, :, None], allowed[take], True)


def train_network(network, data: TrainingData, settings: TrainingSettings, tagger_factory):
    """Train ``network`` in place; returns the per-epoch records.

    ``tagger_factory(network)`` gives a Tagger for validation (the inference path itself).
    """
    import tensorflow as tf

    rng = np.random.default_rng(settings.seed)
    noise = tf.random.Generator.from_seed(settings.seed)
    variables = list(network.trainable_variables)
    optimizer = Adam(variables)
    validator = tagger_factory(network)
    chars = validator.char_ids(data.words)
    chars = np.concatenate([chars, np.zeros((1, chars.shape[1]), np.int32)])  # row -1: padding
    dim = network.config.word_dim
    dropout = float(settings.dropout)
    uses_lexicon = bool(network.config.lexicon_width)
    check_lexicon(data, network.config.lexicon_classes)
    signature = [
        tf.TensorSpec([None, None, dim], tf.float32),
        tf.TensorSpec([None, None, None], tf.int32),
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([], tf.float32),
    ]
    if uses_lexicon:
        signature.append(tf.TensorSpec([None, None], tf.int32))

    @tf.function(input_signature=signature, autograph=False)  # no source files in /tmp
    def step(vectors, char_ids, tags, lengths, lr, lexicon=None):
        with tf.GradientTape() as tape:
            loss = batch_loss(
                network, vectors, char_ids, tags, lengths, dropout, noise, lexicon=lexicon
            )
        grads = tape.gradient(loss, variables)
        grads, _ = tf.clip_by_global_norm([tf.convert_to_tensor(g) for g in grads], 5.0)
        optimizer.apply(grads, lr)
        return loss

    data_with_pad = TrainingData(
        data.words,
        np.concatenate([data.vectors, np.zeros((1, dim), np.float32)]),
        data.tags,
        data.train,
    )
    records: list[EpochRecord] = []
    say = settings.log or (lambda line: print(line, file=sys.stderr, flush=True))
    selection = BestEpoch(network, settings, say)
    for epoch in range(settings.max_epochs):
        lr = settings.lr / (1.0 + settings.po * epoch)
        groups = batches(data.train.lengths, settings.batch_size, rng)
        started, total_loss, shown = time.perf_counter(), 0.0, 0.0
        for number, chosen in enumerate(groups, start=1):
            vectors, char_ids, tags, lengths, *lexicon = padded(
                data_with_pad, data.train, chars, chosen
            )
            loss = step(vectors, char_ids, tags, lengths, np.float32(lr), *lexicon)
            total_loss += float(loss) * len(chosen)
            # Redraw the bar at most twice a second, and at the end of the epoch.
            if settings.verbose and (time.perf_counter() - shown > 0.5 or number == len(groups)):
                _progress(epoch + 1, settings.max_epochs, number, len(groups), started)
                shown = time.perf_counter()
        if settings.verbose:
            print(file=sys.stderr, flush=True)
        record = EpochRecord(
            epoch + 1, total_loss / max(len(data.train), 1), time.perf_counter() - started
        )
        if data.validation is not None and len(data.validation):
            record.validation = evaluate_set(validator, data, data.validation, chars)
        if data.test is not None and len(data.test):
            record.test = evaluate_set(validator, data, data.test, chars)
        records.append(record)
        say(describe_epoch(record, settings.max_epochs))
        # As the reference product does: watch the test set's F1 if there is one, else the
        # validation split's, else the loss.
        if selection.stops_after((record.test or record.validation).get("f1", -record.loss)):
            break
    selection.restore()
    return records


class BestEpoch:
    """Model selection and early stopping, epoch by epoch: keeps the weights of the epoch with
    the best score (a held-out F1, or minus the loss without one) and says when ``patience``
    epochs in a row brought nothing better."""

    def __init__(self, network, settings: TrainingSettings, say: Callable[[str], None]) -> None:
        self.network, self.settings, self.say = network, settings, say
        # From -inf: without held-out data the score is minus the loss, often below -1.
        self.best, self.weights, self.stale = -math.inf, None, 0

    def stops_after(self, score: float) -> bool:
        """Record an epoch's score; True when training should stop now."""
        if score > self.best + 1e-6:
            self.best, self.stale = score, 0
            if self.settings.use_best_model:
                self.weights = [v.numpy() for v in self.network.variables]
            return False
        self.stale += 1
        if self.settings.patience and self.stale >= self.settings.patience:
            self.say(f"early stop: no improvement for {self.stale} epochs")
            return True
        return False

    def restore(self) -> None:
        """Put the kept epoch's weights back (with ``use_best_model``)."""
        if self.settings.use_best_model and self.weights is not None:
            for variable, value in zip(self.network.variables, self.weights, strict=True):
                variable.assign(value)


def check_lexicon(data: TrainingData, classes: list[str]) -> None:
    """Every sentence set has lexicon codes if and only if the network takes them."""
    for name in ("train", "validation", "test"):
        sentences = getattr(data, name)
        if sentences is not None and (sentences.lexicon is not None) != bool(classes):
            has = "has" if sentences.lexicon is not None else "has no"
            raise ValueError(
                f"the {name} sentences {has} lexicon codes, but the network's lexicon "
                f"classes are {classes}"
            )


def batch_loss(network, vectors, char_ids, tags, lengths, dropout=0.0, noise=None, lexicon=None):
    """The training objective: the CRF's mean negative log-likelihood of the gold tags.

    The LSTM steps as a scan (the network's default): TensorFlow's fused LSTM kernel has a
    wrong gradient.
    """
    import tensorflow as tf

    from sparkner.ner.crf import crf_log_likelihood

    emissions = network.emissions(vectors, char_ids, lengths, dropout, noise, lexicon=lexicon)
    log_likelihood = crf_log_likelihood(
        emissions, tags, lengths, network.transitions, network.start, network.end
    )
    return -tf.reduce_mean(log_likelihood)


def evaluate_set(tagger, data: TrainingData, sentences: SentenceSet, chars: np.ndarray) -> dict:
    """Entity-level (strict) micro P/R/F1 of the tagger on a sentence set."""
    ids = sentences.word_ids
    vectors = np.concatenate([data.vectors, np.zeros((1, data.vectors.shape[1]), np.float32)])
    predicted, _ = tagger.predict(
        vectors[ids], chars, sentences.offsets, char_rows=ids, lexicon=sentences.lexicon
    )
    names = np.array(data.tags, dtype=object)
    gold_tags = names[sentences.tag_ids.astype(np.int64)]
    pred_tags = names[predicted]
    cut = sentences.offsets
    gold = [list(gold_tags[cut[i] : cut[i + 1]]) for i in range(len(sentences))]
    pred = [list(pred_tags[cut[i] : cut[i + 1]]) for i in range(len(sentences))]
    result = evaluate_tags(gold, pred)
    micro = result.strict.micro
    return {
        "precision": round(micro.precision, 4),
        "recall": round(micro.recall, 4),
        "f1": round(micro.f1, 4),
        "relaxed_f1": round(result.relaxed.micro.f1, 4),
        "by_type": {k: round(v.f1, 4) for k, v in sorted(result.strict.by_type.items())},
    }


def _progress(epoch: int, epochs: int, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done)
    width = 30
    filled = math.floor(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    print(
        f"\repoch {epoch}/{epochs} [{bar}] {done}/{total} batches, "
        f"{elapsed:.0f}s elapsed, ETA {eta:.0f}s",
        end="",
        file=sys.stderr,
        flush=True,
    )


def describe_epoch(record: EpochRecord, epochs: int) -> str:
    line = f"epoch {record.epoch}/{epochs}: loss {record.loss:.4f}, {record.seconds:.1f}s"
    for name, v in (("validation split", record.validation), ("testDataset", record.test)):
        if v:
            line += (
                f"; {name} entities P {v['precision']:.4f} R {v['recall']:.4f} "
                f"F1 {v['f1']:.4f} (relaxed F1 {v['relaxed_f1']:.4f})"
            )
    return line
