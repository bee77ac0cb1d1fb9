"""One encoder, several heads: a tagger trained on several labelled corpora at once.

Every corpus gets a *head* of its own (output projection and CRF over its own tag set); all
heads share the *encoder* of :class:`TaggerNetwork` (char-CNN, lexicon features, BiLSTM), so a
small corpus borrows what the others teach about clinical text. A partly labelled corpus
trains its head with the partial-label CRF loss (:func:`crf_partial_nll`): its unlabelled
tokens may take any tag instead of being taught as O. A tagger to ship keeps one head
(:meth:`MultiHeadNetwork.head_network`), a plain :class:`TaggerNetwork` that costs at
inference exactly what a single-head tagger costs and loads wherever one does.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from sparkner.core.formats import read_versioned_json
from sparkner.ner.config import (
    TaggerConfig,
    TaggerFileError,
    check_lexicon_classes,
    read_weights,
)
from sparkner.ner.crf import crf_log_likelihood, crf_partial_nll, partial_tag_mask
from sparkner.ner.data import SentenceSet, TrainingData
from sparkner.ner.network import TaggerNetwork, project
from sparkner.ner.tags import tag_spans
from sparkner.ner.training import (
    Adam,
    BestEpoch,
    EpochRecord,
    TrainingSettings,
    batches,
    check_lexicon,
    describe_epoch,
    evaluate_set,
    padded,
    padded_allowed,
)

MULTIHEAD_CONFIG_FILE = "multihead.json"
MULTIHEAD_WEIGHTS_FILE = "multihead.npz"
MULTIHEAD_FORMAT_NAME = "sparkner-multihead-tagger"
MULTIHEAD_FORMAT_VERSION = 1
HEAD_PARTS = ("out_kernel", "out_bias", "transitions", "start", "end")
# Head names become parts of weight names (head_<name>_out_kernel): plain identifiers only.
_HEAD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_IOB2_TAG = re.compile(r"[BI]-\S+")


@dataclass
class HeadSpec:
    """One head: its name, its IOB2 tags ("O" first) and whether its corpus is partly
    labelled (trained with the partial-label loss)."""

    name: str
    tags: list[str]
    partial: bool = False


def check_heads(config: TaggerConfig, heads: Sequence[HeadSpec]) -> None:
    """Raise ValueError unless the heads have distinct simple names and IOB2 tag sets, and
    the encoder config's tags are the first head's (the config stays a valid tagger's)."""
    if not heads:
        raise ValueError("a multi-head network needs at least one head")
    names = [h.name for h in heads]
    for head in heads:
        if not isinstance(head.name, str) or not _HEAD_NAME.fullmatch(head.name):
            raise ValueError(f"head name {head.name!r} is not a simple identifier")
        tags = head.tags
        if (
            not isinstance(tags, list)
            or not tags
            or tags[0] != "O"
            or len(set(tags)) != len(tags)
            or not all(isinstance(t, str) and _IOB2_TAG.fullmatch(t) for t in tags[1:])
        ):
            raise ValueError(f"head {head.name!r}: tags must be distinct IOB2 tags, 'O' first")
        if not isinstance(head.partial, bool):
            raise ValueError(f"head {head.name!r}: partial must be true or false")
    if len(set(names)) != len(names):
        raise ValueError(f"head names must be distinct: {names}")
    if list(config.tags) != heads[0].tags:
        raise ValueError(f"the encoder config's tags must be the first head's ({heads[0].name!r})")


class MultiHeadNetwork(tf.Module):
    """A shared :class:`TaggerNetwork` encoder plus, per head, its output projection and CRF
    (variables ``head_<name>_out_kernel``, ``_out_bias``, ``_transitions``, ``_start``,
    ``_end``)."""

    def __init__(self, config: TaggerConfig, heads: Sequence[HeadSpec], seed: int = 0) -> None:
        super().__init__(name="multihead")
        check_heads(config, heads)
        self.config = config
        self.specs = tuple(HeadSpec(h.name, list(h.tags), h.partial) for h in heads)
        self.encoder = TaggerNetwork(config, seed=seed, with_output=False)
        c = config
        width = 2 * c.hidden if c.layers else c.word_dim + c.char_filters + c.lexicon_width
        self.heads: dict[str, dict[str, tf.Variable]] = {}
        for index, head in enumerate(self.specs):
            init = tf.keras.initializers.GlorotUniform(seed=seed + 1 + index)
            n = len(head.tags)
            initial = {
                "out_kernel": init([width, n]),
                "out_bias": tf.zeros([n]),
                "transitions": tf.zeros([n, n]),
                "start": tf.zeros([n]),
                "end": tf.zeros([n]),
            }
            self.heads[head.name] = {
                part: tf.Variable(value, name=f"head_{head.name}_{part}")
                for part, value in initial.items()
            }

    def spec(self, head: str) -> HeadSpec:
        for spec in self.specs:
            if spec.name == head:
                return spec
        raise KeyError(f"no head {head!r}; the heads are {[s.name for s in self.specs]}")

    def head_variables(self, head: str) -> list[tf.Variable]:
        """A head's own variables, in the order of :data:`HEAD_PARTS`."""
        self.spec(head)
        return [self.heads[head][part] for part in HEAD_PARTS]

    def emissions(
        self,
        head: str,
        vectors: tf.Tensor,
        chars: tf.Tensor,
        lengths: tf.Tensor,
        dropout_rate: float | tf.Tensor = 0.0,
        noise: tf.random.Generator | None = None,
        lexicon: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Head ``head``'s tag scores [batch, time, tags]; the arguments as
        :meth:`TaggerNetwork.emissions` (the training path)."""
        kernel, bias = self.head_variables(head)[:2]
        encoder = self.encoder
        features = encoder.encode(
            vectors, encoder.char_features(chars), lengths, dropout_rate, noise, lexicon=lexicon
        )
        return project(features, kernel, bias)

    # -- one head as a plain tagger -------------------------------------------------------
    def head_config(self, head: str) -> TaggerConfig:
        """The encoder config with ``head``'s tags: that of the head's single-head tagger."""
        c = self.config
        return replace(
            c,
            tags=list(self.spec(head).tags),
            chars=list(c.chars),
            lexicon_classes=list(c.lexicon_classes),
            extra={**c.extra, "head": head},
        )

    def head_network(self, head: str) -> TaggerNetwork:
        """A single-head :class:`TaggerNetwork` holding copies of the encoder's and ``head``'s
        weights: its ``save()`` writes an ordinary tagger folder."""
        network = TaggerNetwork(self.head_config(head))
        self.assign_head(head, network)
        return network

    def assign_head(self, head: str, network: TaggerNetwork) -> None:
        """Copy the encoder's and ``head``'s current weights into ``network`` (one from
        :meth:`head_network`), e.g. to validate the head with the inference path as it trains."""
        sources = {_name(v): v for v in self.encoder.variables}
        sources.update(zip(HEAD_PARTS, self.head_variables(head), strict=True))
        for variable in network.variables:
            source = sources[_name(variable)]
            if source.shape != variable.shape:
                raise ValueError(f"{_name(variable)}: the network's shape is not head {head!r}'s")
            variable.assign(source)

    # -- saving and loading ---------------------------------------------------------------
    def named_variables(self) -> dict[str, tf.Variable]:
        """Every variable by its saved name: the encoder's as in a tagger, then the heads'."""
        named = {_name(v): v for v in self.encoder.variables}
        for spec in self.specs:
            named.update((_name(v), v) for v in self.head_variables(spec.name))
        return named

    def save(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        header = {
            "format": MULTIHEAD_FORMAT_NAME,
            "version": MULTIHEAD_FORMAT_VERSION,
            "encoder": asdict(self.config),
            "heads": [asdict(spec) for spec in self.specs],
        }
        (path / MULTIHEAD_CONFIG_FILE).write_text(json.dumps(header, indent=1) + "\n")
        arrays = {name: v.numpy() for name, v in self.named_variables().items()}
        np.savez(path / MULTIHEAD_WEIGHTS_FILE, **arrays)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> MultiHeadNetwork:
        """A saved multi-head network; a missing, damaged, foreign or newer file, or weights
        that do not fit the config, raise :class:`TaggerFileError` naming the file."""
        path = Path(folder) / MULTIHEAD_CONFIG_FILE
        data = read_versioned_json(
            path,
            MULTIHEAD_FORMAT_NAME,
            MULTIHEAD_FORMAT_VERSION,
            TaggerFileError,
            "saved multi-head tagger",
        )
        try:
            if set(data) != {"encoder", "heads"}:
                raise ValueError(f"expected the keys encoder and heads, found {sorted(data)}")
            config = TaggerConfig(**data["encoder"])
            check_lexicon_classes(config.lexicon_classes)
            if not isinstance(data["heads"], list):
                raise ValueError("heads must be a list")
            network = cls(config, [HeadSpec(**head) for head in data["heads"]])
        except (TypeError, ValueError, tf.errors.OpError) as exc:
            raise TaggerFileError(f"{path}: bad config ({exc})") from None
        weights = Path(folder) / MULTIHEAD_WEIGHTS_FILE
        stored = read_weights(weights)
        expected = network.named_variables()
        unexpected = sorted(set(stored) - set(expected))
        if unexpected:
            raise TaggerFileError(f"{weights}: weights {unexpected[:5]} are not in the config")
        for name, variable in expected.items():
            array = stored.get(name)
            if array is None or array.shape != tuple(variable.shape):
                raise TaggerFileError(
                    f"{weights}: weight {name!r} is missing or has the wrong shape for the config"
                )
            if array.dtype != np.float32:
                raise TaggerFileError(f"{weights}: weight {name!r} is {array.dtype}, not float32")
            variable.assign(array)
        return network


def _name(variable: tf.Variable) -> str:
    return variable.name.split(":")[0]


# -- training ----------------------------------------------------------------------------------
@dataclass
class HeadData:
    """One corpus, for one head: training sentences whose ``tag_ids`` index the head's tags;
    for a partial head, the tags each token may take (bool [tokens, tags], see
    :func:`partial_allowed`); optional validation sentences; and a sampling weight (the
    share of the corpus's batches drawn per epoch: 0.5 takes half, 2 every batch twice)."""

    name: str
    train: SentenceSet
    allowed: np.ndarray | None = None
    validation: SentenceSet | None = None
    weight: float = 1.0


@dataclass
class MultiHeadEpochRecord(EpochRecord):
    """An epoch of :func:`train_multihead`: ``loss`` over every batch, ``validation`` the
    primary head's; per head, its mean loss and its validation figures where it has some."""

    head_loss: dict[str, float] = field(default_factory=dict)
    head_validation: dict[str, dict] = field(default_factory=dict)


def partial_allowed(
    sentences: SentenceSet, labelled: np.ndarray, tag_names: Sequence[str]
) -> np.ndarray:
    """The allowed tags [tokens, tags] of partly labelled sentences: tokens marked in
    ``labelled`` [tokens] keep their tag (their entities become spans of
    :func:`partial_tag_mask`, which also keeps each span from running on; a labelled O stays
    O), every other token may take any tag."""
    names = list(tag_names)
    allowed = np.ones((len(sentences.word_ids), len(names)), dtype=bool)
    outside = np.eye(len(names), dtype=bool)[names.index("O")]
    for s in range(len(sentences)):
        first, stop = int(sentences.offsets[s]), int(sentences.offsets[s + 1])
        known = np.asarray(labelled[first:stop], dtype=bool)
        ids = sentences.tag_ids[first:stop]
        tags = [names[t] if k else None for t, k in zip(ids.tolist(), known, strict=True)]
        mask = partial_tag_mask(stop - first, tag_spans(tags), names)
        mask[known & (ids == names.index("O"))] = outside
        allowed[first:stop] = mask
    return allowed


def head_loss(
    network: MultiHeadNetwork,
    head: str,
    vectors: tf.Tensor,
    chars: tf.Tensor,
    lengths: tf.Tensor,
    target: tf.Tensor,
    dropout_rate: float | tf.Tensor = 0.0,
    noise: tf.random.Generator | None = None,
    lexicon: tf.Tensor | None = None,
) -> tf.Tensor:
    """A batch's mean loss under its head: the CRF's negative log-likelihood of the gold tag
    ids ``target`` [batch, time] for a fully labelled head; for a partial head, of the paths
    the allowed tags ``target`` [batch, time, tags] permit."""
    emissions = network.emissions(head, vectors, chars, lengths, dropout_rate, noise, lexicon)
    _, _, transitions, start, end = network.head_variables(head)
    if network.spec(head).partial:
        return tf.reduce_mean(crf_partial_nll(emissions, target, lengths, transitions, start, end))
    return -tf.reduce_mean(crf_log_likelihood(emissions, target, lengths, transitions, start, end))


def train_multihead(
    network: MultiHeadNetwork,
    words: list[str],
    vectors: np.ndarray,
    heads_data: Sequence[HeadData],
    settings: TrainingSettings,
    primary: str,
    tagger_factory: Callable[[TaggerNetwork], Any],
) -> list[MultiHeadEpochRecord]:
    """Train ``network`` in place on every corpus at once; returns the per-epoch records.

    All corpora index one vocabulary (``words``, ``vectors`` float32 [words, dim]). Each
    epoch draws length-bucketed batches from every corpus (never mixing two), shuffles them
    together and takes one Adam step per batch with its head's loss. The primary head's
    validation F1 (else the loss) drives early stopping and the choice of the kept weights;
    ``tagger_factory(network.head_network(head))`` gives the Tagger that validates a head.
    """
    _check_training(network, words, vectors, heads_data, primary)
    rng = np.random.default_rng(settings.seed)
    noise = tf.random.Generator.from_seed(settings.seed)
    # One validator per head that has validation sentences (and the primary's, always):
    # single-head networks refreshed from the multi-head one before each validation.
    validators = {}
    for data in heads_data:
        if data.name == primary or (data.validation is not None and len(data.validation)):
            head_net = network.head_network(data.name)
            validators[data.name] = (head_net, tagger_factory(head_net))
    chars = validators[primary][1].char_ids(words)
    chars = np.concatenate([chars, np.zeros((1, chars.shape[1]), np.int32)])  # row -1: padding
    dim = network.config.word_dim
    with_pad = TrainingData(
        words, np.concatenate([vectors, np.zeros((1, dim), np.float32)]), [], None
    )  # type: ignore[arg-type]
    shared = list(network.encoder.trainable_variables)
    shared_adam = Adam(shared)
    steps = {
        d.name: _step_function(network, d.name, shared, shared_adam, settings.dropout, noise)
        for d in heads_data
    }
    records: list[MultiHeadEpochRecord] = []
    say = settings.log or (lambda line: print(line, file=sys.stderr, flush=True))
    selection = BestEpoch(network, settings, say)
    for epoch in range(settings.max_epochs):
        lr = np.float32(settings.lr / (1.0 + settings.po * epoch))
        plan = [(d, chosen) for d in heads_data for chosen in _draw(d, settings.batch_size, rng)]
        started = time.perf_counter()
        sums = {d.name: [0.0, 0] for d in heads_data}
        for index in rng.permutation(len(plan)):
            data, chosen = plan[index]
            vectors_b, chars_b, tags_b, lengths_b, *lexicon = padded(
                with_pad, data.train, chars, chosen
            )
            target = (
                tags_b if data.allowed is None else padded_allowed(data.allowed, data.train, chosen)
            )
            loss = steps[data.name](vectors_b, chars_b, lengths_b, lr, target, *lexicon)
            sums[data.name][0] += float(loss) * len(chosen)
            sums[data.name][1] += len(chosen)
        total, count = (sum(s[i] for s in sums.values()) for i in (0, 1))
        record = MultiHeadEpochRecord(
            epoch + 1, total / max(count, 1), time.perf_counter() - started
        )
        record.head_loss = {name: s / max(n, 1) for name, (s, n) in sums.items()}
        for data in heads_data:
            if data.validation is not None and len(data.validation):
                head_net, tagger = validators[data.name]
                network.assign_head(data.name, head_net)
                table = TrainingData(words, vectors, network.spec(data.name).tags, data.train)
                record.head_validation[data.name] = evaluate_set(
                    tagger, table, data.validation, chars
                )
        record.validation = record.head_validation.get(primary, {})
        records.append(record)
        losses = ", ".join(f"{name} {value:.4f}" for name, value in record.head_loss.items())
        say(f"{describe_epoch(record, settings.max_epochs)}; head losses: {losses}")
        if selection.stops_after(record.validation.get("f1", -record.loss)):
            break
    selection.restore()
    return records


def _step_function(
    network: MultiHeadNetwork,
    head: str,
    shared: list[tf.Variable],
    shared_adam: Adam,
    dropout: float,
    noise: tf.random.Generator,
) -> Callable[..., tf.Tensor]:
    """One compiled Adam step on a batch of ``head``'s corpus. The encoder's Adam state is
    shared by every head's steps; each head's own variables have an Adam of their own, so
    a head's moments only see its own batches."""
    own = network.head_variables(head)
    own_adam = Adam(own)
    c = network.config
    target = (
        tf.TensorSpec([None, None, len(network.spec(head).tags)], tf.bool)
        if network.spec(head).partial
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
            loss = head_loss(
                network, head, vectors, chars, lengths, target, dropout, noise, lexicon
            )
        grads = tape.gradient(loss, shared + own)
        grads, _ = tf.clip_by_global_norm([tf.convert_to_tensor(g) for g in grads], 5.0)
        shared_adam.apply(grads[: len(shared)], lr)
        own_adam.apply(grads[len(shared) :], lr)
        return loss

    return step


def _draw(data: HeadData, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A corpus's batches for one epoch: its weight times its number of batches (rounded
    up), from as many fresh shuffles as that takes."""
    drawn = batches(data.train.lengths, batch_size, rng)
    wanted = max(1, math.ceil(round(data.weight * len(drawn), 6)))
    while len(drawn) < wanted:
        drawn += batches(data.train.lengths, batch_size, rng)
    return drawn[:wanted]


def _check_training(
    network: MultiHeadNetwork,
    words: list[str],
    vectors: np.ndarray,
    heads_data: Sequence[HeadData],
    primary: str,
) -> None:
    """Refuse data that does not fit the network, before any step is compiled."""
    names = [d.name for d in heads_data]
    if len(set(names)) != len(names):
        raise ValueError(f"one corpus per head: {names}")
    if primary not in names:
        raise ValueError(f"the primary head {primary!r} has no corpus among {names}")
    if vectors.dtype != np.float32 or vectors.shape != (len(words), network.config.word_dim):
        raise ValueError(
            f"vectors must be float32 [{len(words)}, {network.config.word_dim}], "
            f"not {vectors.dtype} {list(vectors.shape)}"
        )
    for data in heads_data:
        spec = network.spec(data.name)
        if not len(data.train):
            raise ValueError(f"head {data.name!r}: no training sentences")
        if not (data.weight > 0 and np.isfinite(data.weight)):
            raise ValueError(f"head {data.name!r}: the sampling weight must be positive")
        for sentences in (data.train, data.validation):
            ids = sentences.tag_ids if sentences is not None else np.zeros(0)
            if len(ids) and (int(ids.max()) >= len(spec.tags) or int(ids.min()) < 0):
                raise ValueError(f"head {data.name!r}: tag ids outside its tags {spec.tags}")
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
        table = TrainingData(words, vectors, spec.tags, data.train, data.validation)
        check_lexicon(table, network.config.lexicon_classes)
