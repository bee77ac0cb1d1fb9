"""One encoder, several heads: a tagger trained on several labelled corpora at once.

Every corpus gets a *head* of its own (output projection and CRF over its own tag set); all
heads share one :class:`TaggerEncoder` (char-CNN, lexicon features, BiLSTM), so a small corpus
borrows what the others teach about clinical text. A partly labelled corpus trains its head
with the partial-label CRF loss (:func:`sparkner.ner.crf.crf_partial_nll`): its unlabelled
tokens may take any tag instead of being taught as O. A tagger to ship keeps one head
(:meth:`MultiHeadNetwork.head_network`), a plain :class:`TaggerNetwork` that costs at
inference exactly what a single-head tagger costs and loads wherever one does.

The network trains in the one loop of every tagger, :func:`sparkner.ner.training.train_heads`
(a :class:`~sparkner.ner.training.HeadData` per corpus).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sparkner.core.formats import read_versioned_json
from sparkner.ner.config import (
    HEAD_NAME,
    TaggerConfig,
    TaggerFileError,
    check_lexicon_classes,
    read_weights,
)
from sparkner.ner.crf import partial_tag_mask
from sparkner.ner.data import SentenceSet
from sparkner.ner.network import TaggerEncoder, TaggerNetwork
from sparkner.ner.tags import tag_spans
from sparkner.ner.tensorflow_import import import_tensorflow
from sparkner.ner.training import HeadSpec, spec_of

if TYPE_CHECKING:
    import tensorflow as tf
else:  # imported quietly (sparkner.ner.tensorflow_import)
    tf = import_tensorflow()

MULTIHEAD_CONFIG_FILE = "multihead.json"
MULTIHEAD_WEIGHTS_FILE = "multihead.npz"
MULTIHEAD_FORMAT_NAME = "sparkner-multihead-tagger"
MULTIHEAD_FORMAT_VERSION = 1
HEAD_PARTS = ("out_kernel", "out_bias", "transitions", "start", "end")
_IOB2_TAG = re.compile(r"[BI]-\S+")


def check_heads(config: TaggerConfig, heads: Sequence[HeadSpec]) -> None:
    """Raise ValueError unless the heads have distinct simple names and IOB2 tag sets, and
    the encoder config's tags are the first head's (the config stays a valid tagger's)."""
    if not heads:
        raise ValueError("a multi-head network needs at least one head")
    names = [h.name for h in heads]
    for head in heads:
        # Heads read from a file may hold any JSON value: checked as objects.
        name: object = head.name
        tags: object = head.tags
        partial: object = head.partial
        if not isinstance(name, str) or not HEAD_NAME.fullmatch(name):
            raise ValueError(f"head name {head.name!r} is not a simple identifier")
        if (
            not isinstance(tags, list)
            or not tags
            or tags[0] != "O"
            or len(set(tags)) != len(tags)
            or not all(isinstance(t, str) and _IOB2_TAG.fullmatch(t) for t in tags[1:])
        ):
            raise ValueError(f"head {head.name!r}: tags must be distinct IOB2 tags, 'O' first")
        if not isinstance(partial, bool):
            raise ValueError(f"head {head.name!r}: partial must be true or false")
    if len(set(names)) != len(names):
        raise ValueError(f"head names must be distinct: {names}")
    if list(config.tags) != heads[0].tags:
        raise ValueError(f"the encoder config's tags must be the first head's ({heads[0].name!r})")


class MultiHeadNetwork(tf.Module):
    """A shared :class:`TaggerEncoder` plus, per head, its output projection and CRF
    (variables ``head_<name>_out_kernel``, ``_out_bias``, ``_transitions``, ``_start``,
    ``_end``)."""

    def __init__(self, config: TaggerConfig, heads: Sequence[HeadSpec], seed: int = 0) -> None:
        super().__init__(name="multihead")
        check_heads(config, heads)
        self.config = config
        self.specs = tuple(HeadSpec(h.name, list(h.tags), h.partial) for h in heads)
        self.encoder = TaggerEncoder(config, seed=seed)
        width = self.encoder.output_width
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
        return spec_of(self.specs, head)

    def shared_variables(self) -> list[tf.Variable]:
        """The encoder's trainable variables: every head's batches train them."""
        return list(self.encoder.trainable_variables)

    def head_variables(self, head: str) -> list[tf.Variable]:
        """A head's own variables, in the order of :data:`HEAD_PARTS`."""
        self.spec(head)
        return [self.heads[head][part] for part in HEAD_PARTS]

    def emissions(
        self, head: str, vectors: tf.Tensor, chars: tf.Tensor, lengths: tf.Tensor, **encoding: Any
    ) -> tf.Tensor:
        """Head ``head``'s tag scores [batch, time, tags]; the arguments as
        :meth:`TaggerNetwork.emissions` (the training path)."""
        kernel, bias = self.head_variables(head)[:2]
        return self.encoder.head_emissions(kernel, bias, vectors, chars, lengths, **encoding)

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


# -- training data -----------------------------------------------------------------------------
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
