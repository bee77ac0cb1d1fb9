"""Training the tagger: one loop for a single-head tagger and for a multi-head encoder.

:func:`train_heads` trains a network of named heads on one corpus per head: a single-head
tagger is the one-head case (:class:`OneHead`, :func:`train_network`), a multi-head network
(:class:`sparkner.ner.multihead.MultiHeadNetwork`) has a head per corpus, all sharing one
encoder. Each epoch draws length-bucketed batches from every corpus (never mixing two in a
batch), takes one Adam step per batch with its head's CRF loss, and scores the held-out sets
for model selection and early stopping.

The training set is held as a few numpy arrays, not Python objects: one vector per distinct
word, and int32 word ids / int16 tag ids per token, so 100k sentences fit in a small driver.
TensorFlow is imported only once a network trains.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sparkner.ner.config import TaggerConfig
from sparkner.ner.data import SentenceSet, TrainingData
from sparkner.ner.metrics import evaluate_tags
from sparkner.ner.tensorflow_import import import_tensorflow

# The name of a single-head tagger's one head.
SINGLE_HEAD = "tagger"


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
    # No early stop before this many epochs.
    min_epochs: int = 0
    # A held-out score must rise by more than this to count as an improvement for early
    # stopping (the kept weights follow any rise).
    min_delta: float = 0.0
    # The held-out figure that picks the epoch: "f1" (micro) or "macro_f1".
    metric: str = "f1"
    # Whether each epoch's log line is followed by the per-type figures.
    extended_log: bool = False


@dataclass
class EpochRecord:
    """An epoch: ``loss`` over every batch, ``validation`` and ``test`` the primary head's
    figures; per head, its mean loss and its validation figures where it has some."""

    epoch: int
    loss: float
    seconds: float
    validation: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    head_loss: dict[str, float] = field(default_factory=dict)
    head_validation: dict[str, dict] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """The epoch as a tagger's training record keeps it: all but the per-head figures."""
        kept = ("epoch", "loss", "seconds", "validation", "test")
        return {name: getattr(self, name) for name in kept}


@dataclass
class HeadSpec:
    """One head: its name, its tags and whether its corpus is partly labelled (trained with
    the partial-label loss)."""

    name: str
    tags: list[str]
    partial: bool = False


def spec_of(specs: Sequence[HeadSpec], head: str) -> HeadSpec:
    """The spec of head ``head``; KeyError naming the heads if there is none."""
    for spec in specs:
        if spec.name == head:
            return spec
    raise KeyError(f"no head {head!r}; the heads are {[s.name for s in specs]}")


@dataclass
class HeadData:
    """One corpus, for one head: training sentences whose ``tag_ids`` index the head's tags;
    for a partial head, the tags each token may take (bool [tokens, tags], see
    :func:`sparkner.ner.multihead.partial_allowed`); optional validation sentences; a
    sampling weight (the share of the corpus's batches drawn per epoch: 0.5 takes half, 2
    every batch twice); and for the primary head only, optional test sentences (the
    testDataset, which selects the epoch before the validation sentences do)."""

    name: str
    train: SentenceSet
    allowed: np.ndarray | None = None
    validation: SentenceSet | None = None
    weight: float = 1.0
    test: SentenceSet | None = None

    def held_out(self) -> dict[str, SentenceSet]:
        """The held-out sets that have sentences, by kind ("validation", "test")."""
        sets = {"validation": self.validation, "test": self.test}
        return {kind: s for kind, s in sets.items() if s is not None and len(s)}


class Heads(Protocol):
    """What :func:`train_heads` trains: named heads, each an output projection and a CRF on
    a shared encoder (a :class:`~sparkner.ner.network.TaggerEncoder`)."""

    config: TaggerConfig
    encoder: Any

    @property
    def variables(self) -> Sequence[Any]:
        """Every variable: what model selection keeps and restores."""

    def spec(self, head: str) -> HeadSpec: ...

    def shared_variables(self) -> list[Any]:
        """The variables every head's batches train, in the order of their gradients."""

    def head_variables(self, head: str) -> list[Any]:
        """``head``'s output kernel and bias, and its CRF's transitions, start and end."""

    def head_network(self, head: str) -> Any:
        """A single-head tagger network for ``head``, to validate it with."""

    def assign_head(self, head: str, network: Any) -> None:
        """Bring ``network`` (from :meth:`head_network`) up to ``head``'s current weights."""


class OneHead:
    """A single-head tagger (a :class:`~sparkner.ner.network.TaggerNetwork`) as the one head
    of :func:`train_heads`: the network is the encoder and holds the head's weights too. All
    its variables count as shared, in the network's own order, so that one Adam and one
    gradient clip cover the whole network, as a tagger has always trained."""

    def __init__(self, network: Any, name: str = SINGLE_HEAD) -> None:
        self.network = self.encoder = network
        self.config = network.config
        self.specs = (HeadSpec(name, list(network.config.tags)),)

    @property
    def variables(self) -> Sequence[Any]:
        return self.network.variables

    def spec(self, head: str) -> HeadSpec:
        return spec_of(self.specs, head)

    def shared_variables(self) -> list[Any]:
        return list(self.network.trainable_variables)

    def head_variables(self, head: str) -> list[Any]:
        self.spec(head)
        n = self.network
        return [n.out_kernel, n.out_bias, n.transitions, n.start, n.end]

    def head_network(self, head: str) -> Any:
        self.spec(head)
        return self.network  # validation reads the weights as they train

    def assign_head(self, head: str, network: Any) -> None:
        """Nothing to copy: the head's network is the one being trained."""


class Adam:
    """Adam for plain tf.Variables (Keras optimizers want Keras variables)."""

    def __init__(
        self, variables: Sequence[Any], beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        tf = import_tensorflow()

        self.variables = variables
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.t = tf.Variable(0.0, trainable=False)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def apply(self, grads: Sequence[Any], lr: Any) -> None:
        tf = import_tensorflow()

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


def corpus_batches(data: HeadData, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A corpus's batches for one epoch: its weight times its number of batches (rounded
    up), from as many fresh shuffles as that takes."""
    drawn = batches(data.train.lengths, batch_size, rng)
    wanted = max(1, math.ceil(round(data.weight * len(drawn), 6)))
    while len(drawn) < wanted:
        drawn += batches(data.train.lengths, batch_size, rng)
    return drawn[:wanted]


def epoch_plan(
    corpora: Sequence[HeadData], batch_size: int, rng: np.random.Generator
) -> list[tuple[HeadData, np.ndarray]]:
    """One epoch's batches with their corpora: those of several corpora shuffled together
    (a single corpus's come in random order already)."""
    plan = [(d, chosen) for d in corpora for chosen in corpus_batches(d, batch_size, rng)]
    if len(corpora) == 1:
        return plan
    return [plan[i] for i in rng.permutation(len(plan))]


def batch_positions(sentences: SentenceSet, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a batch's tokens are in the flat token arrays, [batch, steps] (0 at padding),
    and which of those are real tokens, not padding."""
    lengths = sentences.lengths[chosen]
    steps = int(lengths.max())
    positions = sentences.offsets[chosen][:, None] + np.arange(steps)[None, :]
    valid = np.arange(steps)[None, :] < lengths[:, None]
    return np.where(valid, positions, 0), valid


def padded(
    vectors: np.ndarray, sentences: SentenceSet, chars: np.ndarray, chosen: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Padded arrays for a batch: vectors, char ids, tag ids, lengths, and the lexicon
    codes where the sentences have them. ``vectors`` and ``chars`` have a padding row last."""
    lengths = sentences.lengths[chosen]
    take, valid = batch_positions(sentences, chosen)
    ids = np.where(valid, sentences.word_ids[take], -1)
    batch_vectors = np.where(valid[:, :, None], vectors[ids], 0.0).astype(np.float32)
    char_ids = np.where(valid[:, :, None], chars[ids], 0).astype(np.int32)
    tags = np.where(valid, sentences.tag_ids[take], 0).astype(np.int32)
    arrays = (batch_vectors, char_ids, tags, lengths.astype(np.int32))
    if sentences.lexicon is None:
        return arrays
    return (*arrays, np.where(valid, sentences.lexicon[take], 0).astype(np.int32))


def padded_allowed(allowed: np.ndarray, sentences: SentenceSet, chosen: np.ndarray) -> np.ndarray:
    """A batch's allowed tags [batch, steps, tags] from the per-token ones [tokens, tags] of
    partly labelled sentences (:func:`sparkner.ner.crf.partial_tag_mask`); padding allows all."""
    take, valid = batch_positions(sentences, chosen)
    return np.where(valid[:, :, None], allowed[take], True)


def with_padding_row(table: np.ndarray) -> np.ndarray:
    """``table`` with a row of zeros after its last: row -1, where padding looks up."""
    return np.concatenate([table, np.zeros((1, table.shape[1]), table.dtype)])


def char_table(tagger: Any, words: Sequence[str]) -> np.ndarray:
    """The character ids [words + 1, max_word_chars] of the vocabulary, for a Tagger's
    network; the last row is padding."""
    return with_padding_row(tagger.char_ids(words))


def train_network(
    network: Any, data: TrainingData, settings: TrainingSettings, tagger_factory: Callable
) -> list[EpochRecord]:
    """Train a single-head ``network`` (a TaggerNetwork) in place on ``data``: the loop of
    :func:`train_heads` with one head; returns the per-epoch records."""
    corpus = HeadData(SINGLE_HEAD, data.train, validation=data.validation, test=data.test)
    model = OneHead(network)
    return train_heads(
        model, data.words, data.vectors, [corpus], settings, SINGLE_HEAD, tagger_factory
    )


def train_heads(
    model: Heads,
    words: list[str],
    vectors: np.ndarray,
    corpora: Sequence[HeadData],
    settings: TrainingSettings,
    primary: str,
    tagger_factory: Callable,
) -> list[EpochRecord]:
    """Train ``model`` in place on every corpus at once (each trains the head of its name);
    returns the per-epoch records.

    All corpora index one vocabulary (``words``, ``vectors`` float32 [words, dim]). Each
    epoch takes the batches of :func:`epoch_plan` and one Adam step per batch with its head's
    loss (:func:`head_loss`). The primary head's test F1, else its validation F1, else the
    loss drives early stopping and the choice of the kept weights;
    ``tagger_factory(model.head_network(head))`` gives the Tagger (the inference path itself)
    that validates a head.
    """
    tf = import_tensorflow()

    check_corpora(model, words, vectors, corpora, primary)
    rng = np.random.default_rng(settings.seed)
    noise = tf.random.Generator.from_seed(settings.seed)
    validators = {}  # per head with held-out sets (and the primary, always): network, Tagger
    for data in corpora:
        if data.name == primary or data.held_out():
            network = model.head_network(data.name)
            validators[data.name] = (network, tagger_factory(network))
    chars = char_table(validators[primary][1], words)
    table = with_padding_row(vectors)
    shared = list(model.shared_variables())
    shared_adam = Adam(shared)
    steps = {
        d.name: _step_function(model, d.name, shared, shared_adam, float(settings.dropout), noise)
        for d in corpora
    }
    records: list[EpochRecord] = []
    say = settings.log or (lambda line: print(line, file=sys.stderr, flush=True))
    selection = BestEpoch(model, settings, say)
    for epoch in range(settings.max_epochs):
        lr = np.float32(settings.lr / (1.0 + settings.po * epoch))
        plan = epoch_plan(corpora, settings.batch_size, rng)
        started, shown = time.perf_counter(), 0.0
        sums = {d.name: [0.0, 0] for d in corpora}
        for number, (data, chosen) in enumerate(plan, start=1):
            vectors_b, chars_b, tags_b, lengths_b, *lexicon = padded(
                table, data.train, chars, chosen
            )
            target = (
                tags_b if data.allowed is None else padded_allowed(data.allowed, data.train, chosen)
            )
            loss = steps[data.name](vectors_b, chars_b, lengths_b, lr, target, *lexicon)
            sums[data.name][0] += float(loss) * len(chosen)
            sums[data.name][1] += len(chosen)
            # Redraw the bar at most twice a second, and at the end of the epoch.
            if settings.verbose and (time.perf_counter() - shown > 0.5 or number == len(plan)):
                _progress(epoch + 1, settings.max_epochs, number, len(plan), started)
                shown = time.perf_counter()
        if settings.verbose:
            print(file=sys.stderr, flush=True)
        total, count = (sum(s[i] for s in sums.values()) for i in (0, 1))
        record = EpochRecord(epoch + 1, total / max(count, 1), time.perf_counter() - started)
        record.head_loss = {name: s / max(n, 1) for name, (s, n) in sums.items()}
        _score_held_out(
            record, model, corpora, primary, validators, vectors, chars, settings.extended_log
        )
        records.append(record)
        say(describe_epoch(record, settings.max_epochs, settings.extended_log))
        # As the reference product does: watch the test set's F1 if there is one, else the
        # validation split's, else the loss.
        held_out = record.test or record.validation
        if selection.stops_after(held_out.get(settings.metric, -record.loss), epoch + 1):
            break
    selection.restore()
    return records


def _score_held_out(
    record: EpochRecord,
    model: Heads,
    corpora: Sequence[HeadData],
    primary: str,
    validators: dict[str, tuple[Any, Any]],
    vectors: np.ndarray,
    chars: np.ndarray,
    extended: bool = False,
) -> None:
    """An epoch's held-out figures, by the inference path: every head's validation set, and
    the primary head's validation and test sets as the record's own (``extended``: with
    each type's precision, recall and counts)."""
    for data in corpora:
        held = data.held_out()
        if not held:
            continue
        network, tagger = validators[data.name]
        model.assign_head(data.name, network)
        tags = model.spec(data.name).tags
        figures = {
            k: evaluate_set(tagger, vectors, tags, s, chars, extended) for k, s in held.items()
        }
        if "validation" in figures:
            record.head_validation[data.name] = figures["validation"]
        if data.name == primary:
            record.test = figures.get("test", {})
    record.validation = record.head_validation.get(primary, {})


def _step_function(
    model: Heads, head: str, shared: list[Any], shared_adam: Adam, dropout: float, noise: Any
) -> Callable[..., Any]:
    """One compiled Adam step on a batch of ``head``'s corpus. The shared variables' Adam
    state is shared by every head's steps; each head's own variables have an Adam of their
    own, so a head's moments only see its own batches."""
    tf = import_tensorflow()

    # A head's variables that are not shared (all of them on a multi-head network, none on a
    # single-head one) have their own Adam.
    shared_ids = {id(v) for v in shared}
    own = [v for v in model.head_variables(head) if id(v) not in shared_ids]
    own_adam = Adam(own)
    c = model.config
    tags = model.spec(head)
    target = (
        tf.TensorSpec([None, None, len(tags.tags)], tf.bool)
        if tags.partial
        else tf.TensorSpec([None, None], tf.int32)
    )
    signature = [
        tf.TensorSpec([None, None, c.word_dim], tf.float32),
        tf.TensorSpec([None, None, None], tf.int32),
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([], tf.float32),
        target,
    ]
    if c.lexicon_width:
        signature.append(tf.TensorSpec([None, None], tf.int32))

    @tf.function(input_signature=signature, autograph=False)  # no source files in /tmp
    def step(vectors, chars, lengths, lr, target, lexicon=None):
        with tf.GradientTape() as tape:
            loss = head_loss(model, head, vectors, chars, lengths, target, dropout, noise, lexicon)
        grads = tape.gradient(loss, shared + own)
        grads, _ = tf.clip_by_global_norm([tf.convert_to_tensor(g) for g in grads], 5.0)
        shared_adam.apply(grads[: len(shared)], lr)
        own_adam.apply(grads[len(shared) :], lr)
        return loss

    return step


def head_loss(
    model: Heads,
    head: str,
    vectors: Any,
    chars: Any,
    lengths: Any,
    target: Any,
    dropout_rate: Any = 0.0,
    noise: Any = None,
    lexicon: Any = None,
) -> Any:
    """A batch's mean loss under its head: the CRF's negative log-likelihood of the gold tag
    ids ``target`` [batch, time] for a fully labelled head; for a partial head, of the paths
    the allowed tags ``target`` [batch, time, tags] permit.

    The LSTM steps as a scan (the network's default): TensorFlow's fused LSTM kernel has a
    wrong gradient.
    """
    tf = import_tensorflow()

    from sparkner.ner.crf import crf_log_likelihood, crf_partial_nll

    kernel, bias, transitions, start, end = model.head_variables(head)
    emissions = model.encoder.head_emissions(
        kernel,
        bias,
        vectors,
        chars,
        lengths,
        dropout_rate=dropout_rate,
        noise=noise,
        lexicon=lexicon,
    )
    if model.spec(head).partial:
        return tf.reduce_mean(crf_partial_nll(emissions, target, lengths, transitions, start, end))
    return -tf.reduce_mean(crf_log_likelihood(emissions, target, lengths, transitions, start, end))


class BestEpoch:
    """Model selection and early stopping, epoch by epoch: keeps the weights of the epoch with
    the best score (a held-out F1, or minus the loss without one) and says when ``patience``
    epochs in a row brought nothing better."""

    def __init__(
        self, network: Heads, settings: TrainingSettings, say: Callable[[str], None]
    ) -> None:
        self.network, self.settings, self.say = network, settings, say
        # From -inf: without held-out data the score is minus the loss, often below -1.
        self.best, self.stale = -math.inf, 0
        # The score of the last epoch that improved by more than min_delta.
        self.reference = -math.inf
        self.weights: list[np.ndarray] | None = None

    def stops_after(self, score: float, epoch: int = 0) -> bool:
        """Record the score of ``epoch`` (from 1); True when training should stop now: no
        rise above ``min_delta`` for ``patience`` epochs, and ``min_epochs`` done."""
        if score > self.best + 1e-6:
            self.best = score
            if self.settings.use_best_model:
                self.weights = [v.numpy() for v in self.network.variables]
        if score > self.reference + max(self.settings.min_delta, 1e-6):
            self.reference, self.stale = score, 0
            return False
        self.stale += 1
        patience = self.settings.patience
        if patience and self.stale >= patience and epoch >= self.settings.min_epochs:
            self.say(f"early stop: no improvement for {self.stale} epochs")
            return True
        return False

    def restore(self) -> None:
        """Put the kept epoch's weights back (with ``use_best_model``)."""
        if self.settings.use_best_model and self.weights is not None:
            for variable, value in zip(self.network.variables, self.weights, strict=True):
                variable.assign(value)


def check_corpora(
    model: Heads,
    words: list[str],
    vectors: np.ndarray,
    corpora: Sequence[HeadData],
    primary: str,
) -> None:
    """Refuse data that does not fit the network, before any step is compiled."""
    names = [d.name for d in corpora]
    if len(set(names)) != len(names):
        raise ValueError(f"one corpus per head: {names}")
    if primary not in names:
        raise ValueError(f"the primary head {primary!r} has no corpus among {names}")
    if vectors.dtype != np.float32 or vectors.shape != (len(words), model.config.word_dim):
        raise ValueError(
            f"vectors must be float32 [{len(words)}, {model.config.word_dim}], "
            f"not {vectors.dtype} {list(vectors.shape)}"
        )
    classes = model.config.lexicon_classes
    for data in corpora:
        spec = model.spec(data.name)
        if not len(data.train):
            raise ValueError(f"head {data.name!r}: no training sentences")
        if not (data.weight > 0 and np.isfinite(data.weight)):
            raise ValueError(f"head {data.name!r}: the sampling weight must be positive")
        if data.test is not None and data.name != primary:
            raise ValueError(f"head {data.name!r}: only the primary head takes test sentences")
        sets = {"train": data.train, "validation": data.validation, "test": data.test}
        for kind, sentences in sets.items():
            if sentences is None:
                continue
            ids = sentences.tag_ids
            if len(ids) and (int(ids.max()) >= len(spec.tags) or int(ids.min()) < 0):
                raise ValueError(f"head {data.name!r}: tag ids outside its tags {spec.tags}")
            if (sentences.lexicon is not None) != bool(classes):
                have = "have" if sentences.lexicon is not None else "have no"
                raise ValueError(
                    f"the {kind} sentences of head {data.name!r} {have} lexicon codes, but the "
                    f"network's lexicon classes are {classes}"
                )
        if spec.partial != (data.allowed is not None):
            raise ValueError(
                f"head {data.name!r}: the allowed tags must be given for a partial head, "
                "and only for one"
            )
        if data.allowed is not None:
            shape = (len(data.train.word_ids), len(spec.tags))
            if data.allowed.dtype != np.bool_ or data.allowed.shape != shape:
                raise ValueError(f"head {data.name!r}: the allowed tags must be bool {shape}")
            if not data.allowed.any(axis=1).all():
                raise ValueError(f"head {data.name!r}: a token allows no tag")


def evaluate_set(
    tagger: Any,
    vectors: np.ndarray,
    tag_names: Sequence[str],
    sentences: SentenceSet,
    chars: np.ndarray,
    extended: bool = False,
) -> dict:
    """Entity-level (strict) micro P/R/F1 and macro F1 of the tagger on a sentence set whose
    word ids index ``vectors`` [words, dim] (and ``chars``, padding row last) and tag ids
    ``tag_names``; ``extended``: each type's P/R/F1 and counts too (``scores_by_type``)."""
    ids = sentences.word_ids
    predicted, _ = tagger.predict(
        with_padding_row(vectors)[ids],
        chars,
        sentences.offsets,
        char_rows=ids,
        lexicon=sentences.lexicon,
    )
    names = np.array(tag_names, dtype=object)
    gold_tags = names[sentences.tag_ids.astype(np.int64)]
    pred_tags = names[predicted]
    cut = sentences.offsets
    gold = [list(gold_tags[cut[i] : cut[i + 1]]) for i in range(len(sentences))]
    pred = [list(pred_tags[cut[i] : cut[i + 1]]) for i in range(len(sentences))]
    result = evaluate_tags(gold, pred)
    micro = result.strict.micro
    figures = {
        "precision": round(micro.precision, 4),
        "recall": round(micro.recall, 4),
        "f1": round(micro.f1, 4),
        "macro_f1": round(result.strict.macro_f1, 4),
        "relaxed_f1": round(result.relaxed.micro.f1, 4),
        "by_type": {k: round(v.f1, 4) for k, v in sorted(result.strict.by_type.items())},
    }
    if extended:
        figures["scores_by_type"] = {
            k: v.as_dict() for k, v in sorted(result.strict.by_type.items())
        }
    return figures


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


def describe_epoch(record: EpochRecord, epochs: int, extended: bool = False) -> str:
    """An epoch's log line: its loss and held-out figures, and with several heads, each
    head's loss; ``extended``: then one line per entity type of each held-out set (its
    precision, recall, F1 and counts), as Spark NLP's ``evaluationLogExtended``."""
    line = f"epoch {record.epoch}/{epochs}: loss {record.loss:.4f}, {record.seconds:.1f}s"
    for name, v in (("validation split", record.validation), ("testDataset", record.test)):
        if v:
            line += (
                f"; {name} entities P {v['precision']:.4f} R {v['recall']:.4f} "
                f"F1 {v['f1']:.4f} (relaxed F1 {v['relaxed_f1']:.4f})"
            )
    if len(record.head_loss) > 1:
        losses = ", ".join(f"{name} {value:.4f}" for name, value in record.head_loss.items())
        line += f"; head losses: {losses}"
    if extended:
        for name, v in (("validation split", record.validation), ("testDataset", record.test)):
            for entity, f in (v or {}).get("scores_by_type", {}).items():
                line += (
                    f"\n  {name} {entity}: P {f['precision']:.4f} R {f['recall']:.4f} "
                    f"F1 {f['f1']:.4f} (tp {f['tp']}, fp {f['fp']}, fn {f['fn']})"
                )
            if v:
                line += f"\n  {name} macro F1 {v['macro_f1']:.4f}"
    return line
