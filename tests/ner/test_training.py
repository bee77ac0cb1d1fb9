"""The one training loop (sparkner.ner.training): a single-head tagger is its one-head case,
batches are planned per corpus, data that does not fit is refused, and model selection and
early stopping (BestEpoch) watch the right score."""

from __future__ import annotations

import numpy as np
import pytest

from sparkner.ner.config import TaggerConfig
from sparkner.ner.data import SentenceSet, TrainingData
from sparkner.ner.training import (
    SINGLE_HEAD,
    BestEpoch,
    EpochRecord,
    HeadData,
    OneHead,
    TrainingSettings,
    batches,
    check_corpora,
    corpus_batches,
    describe_epoch,
    epoch_plan,
    train_network,
)

WORDS = ["the", "a", "was", "seen", "zorp", "blix"]
TAGS = ["O", "B-X"]


def test_without_held_out_data_the_loss_decides_from_the_first_epoch():
    """Without a held-out set the score is minus the loss, often far below -1: every falling
    loss is an improvement, and only ``patience`` epochs without one stop training."""
    said: list[str] = []
    selection = BestEpoch(None, TrainingSettings(patience=2, use_best_model=False), said.append)
    assert not any(selection.stops_after(-loss) for loss in (13.0, 9.0, 7.5, 7.0))
    assert not selection.stops_after(-7.2)
    assert selection.stops_after(-7.1)
    assert said == ["early stop: no improvement for 2 epochs"]


def test_patience_zero_never_stops():
    selection = BestEpoch(None, TrainingSettings(patience=0, use_best_model=False), print)
    assert not any(selection.stops_after(0.5) for _ in range(10))


def test_min_epochs_and_the_criterion_hold_early_stopping_back():
    """A rise of no more than ``min_delta`` is no improvement for early stopping (the kept
    weights still follow it), and no stop comes before ``min_epochs``."""
    said: list[str] = []
    settings = TrainingSettings(patience=1, use_best_model=False, min_delta=0.05, min_epochs=4)
    selection = BestEpoch(None, settings, said.append)
    assert not selection.stops_after(0.50, 1)
    assert not selection.stops_after(0.52, 2)  # stale: +0.02 < 0.05, but before min_epochs
    assert selection.best == 0.52
    assert not selection.stops_after(0.60, 3)  # +0.10 over 0.50: an improvement
    assert selection.stops_after(0.61, 4)
    assert said == ["early stop: no improvement for 1 epochs"]


def test_extended_epoch_lines_give_every_type():
    record = EpochRecord(2, 0.5, 1.0)
    scores = {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "tp": 1, "fp": 1, "fn": 0}
    record.validation = {
        "precision": 0.5, "recall": 1.0, "f1": 0.6667, "macro_f1": 0.6667, "relaxed_f1": 0.7,
        "by_type": {"X": 0.6667}, "scores_by_type": {"X": scores},
    }  # fmt: skip
    short = describe_epoch(record, 5)
    long = describe_epoch(record, 5, extended=True)
    assert long.startswith(short) and "\n" not in short
    assert long.splitlines()[1:] == [
        "  validation split X: P 0.5000 R 1.0000 F1 0.6667 (tp 1, fp 1, fn 0)",
        "  validation split macro F1 0.6667",
    ]


def sentences(lengths: list[int], seed: int = 0, lexicon: bool = False) -> SentenceSet:
    """Sentences of random words, the last two words (zorp, blix) tagged X."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, len(WORDS), size=sum(lengths)).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    codes = rng.integers(0, 3, size=len(ids)).astype(np.int32) if lexicon else None
    return SentenceSet(ids, (ids >= 4).astype(np.int16), offsets, codes)


def test_one_corpus_takes_its_batches_as_drawn_and_several_are_shuffled_together():
    one = HeadData("a", sentences([2, 3, 4, 2, 5, 3, 2, 6]))
    other = HeadData("b", sentences([3, 3, 2, 4], seed=1), weight=2.0)
    drawn = batches(one.train.lengths, 3, np.random.default_rng(5))
    plan = epoch_plan([one], 3, np.random.default_rng(5))
    assert [d.name for d, _ in plan] == ["a"] * 3
    assert [c.tolist() for _, c in plan] == [c.tolist() for c in drawn]
    # Several: each corpus's batches drawn in turn, then one permutation of them all.
    rng = np.random.default_rng(5)
    both = epoch_plan([one, other], 3, np.random.default_rng(5))
    unmixed = [("a", c.tolist()) for c in corpus_batches(one, 3, rng)]
    unmixed += [("b", c.tolist()) for c in corpus_batches(other, 3, rng)]
    assert len(both) == 3 + 4  # "b": weight 2, twice its two batches
    order = rng.permutation(len(unmixed))
    assert [(d.name, c.tolist()) for d, c in both] == [unmixed[i] for i in order]
    assert order.tolist() != sorted(order.tolist())


def test_the_epoch_line_names_head_losses_only_with_several_heads():
    record = EpochRecord(2, 0.5, 1.25, validation={}, head_loss={"tagger": 0.5})
    assert describe_epoch(record, 9) == "epoch 2/9: loss 0.5000, 1.2s"
    record.head_loss = {"main": 0.25, "drugs": 1.0}
    assert describe_epoch(record, 9).endswith("; head losses: main 0.2500, drugs 1.0000")
    assert list(record.figures()) == ["epoch", "loss", "seconds", "validation", "test"]


def tiny_network(**changes):
    from sparkner.ner.network import TaggerNetwork

    settings = dict(chars=sorted(set("".join(WORDS))), word_dim=4, char_dim=4, char_filters=5)
    return TaggerNetwork(TaggerConfig(tags=TAGS, hidden=6, **{**settings, **changes}), seed=1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"corpora": ["tagger", "tagger"]}, r"one corpus per head"),
        ({"primary": "main"}, r"the primary head 'main' has no corpus"),
        ({"corpora": [SINGLE_HEAD, "other"]}, r"no head 'other'"),
        ({"vectors": np.zeros((len(WORDS), 4))}, r"vectors must be float32 \[6, 4\]"),
        ({"vectors": np.zeros((2, 4), np.float32)}, r"vectors must be float32 \[6, 4\]"),
        ({"train": sentences([])}, r"head 'tagger': no training sentences"),
        ({"weight": 0.0}, r"sampling weight must be positive"),
        ({"tag_ids": 2}, r"tag ids outside its tags \['O', 'B-X'\]"),
        ({"validation": sentences([2], lexicon=True)}, r"validation sentences .* have lexicon"),
        ({"allowed": True}, r"allowed tags must be given for a partial head, and only for one"),
    ],
)
def test_data_that_does_not_fit_the_network_is_refused(change, message):
    network = tiny_network()
    train = change.get("train", sentences([3, 2]))
    if "tag_ids" in change:
        train.tag_ids[0] = change["tag_ids"]
    allowed = np.ones((len(train.word_ids), 2), bool) if "allowed" in change else None
    corpora = [
        HeadData(name, train, allowed, change.get("validation"), change.get("weight", 1.0))
        for name in change.get("corpora", [SINGLE_HEAD])
    ]
    vectors = change.get("vectors", np.zeros((len(WORDS), 4), np.float32))
    with pytest.raises((ValueError, KeyError), match=message):
        check_corpora(OneHead(network), WORDS, vectors, corpora, change.get("primary", SINGLE_HEAD))


def test_only_the_primary_head_takes_test_sentences():
    from sparkner.ner.multihead import HeadSpec, MultiHeadNetwork

    config = tiny_network().config
    network = MultiHeadNetwork(config, [HeadSpec("main", TAGS), HeadSpec("extra", TAGS)])
    main = HeadData("main", sentences([2]), test=sentences([2]))
    extra = HeadData("extra", sentences([2]), test=sentences([2]))
    vectors = np.zeros((len(WORDS), 4), np.float32)
    check_corpora(network, WORDS, vectors, [main, HeadData("extra", sentences([2]))], "main")
    with pytest.raises(ValueError, match="head 'extra': only the primary head takes test"):
        check_corpora(network, WORDS, vectors, [main, extra], "main")


def test_a_single_head_tagger_trains_as_the_one_head_of_the_loop():
    network = tiny_network(lexicon_classes=["A"])
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(len(WORDS), 4)).astype(np.float32)
    train = sentences([3, 4, 2, 5, 3, 4, 2, 3] * 4, seed=4, lexicon=True)
    data = TrainingData(
        list(WORDS),
        vectors,
        TAGS,
        train,
        validation=sentences([3, 4, 2, 5], seed=5, lexicon=True),
        test=sentences([4, 3], seed=6, lexicon=True),
        lexicon_classes=["A"],
    )
    said: list[str] = []
    settings = TrainingSettings(
        max_epochs=8, lr=0.05, batch_size=4, dropout=0.1, patience=0, verbose=False, log=said.append
    )
    records = train_network(network, data, settings, _tagger)
    assert [r.epoch for r in records] == list(range(1, 9))
    assert records[-1].loss < 0.2 * records[0].loss
    assert records[-1].validation["f1"] == 1.0 and records[-1].test["f1"] == 1.0
    for r in records:  # one head: its loss is the epoch's, its validation the record's
        assert r.head_loss == {SINGLE_HEAD: r.loss}
        assert r.head_validation == {SINGLE_HEAD: r.validation}
    assert said[0].startswith("epoch 1/8: loss ") and "head losses" not in said[0]
    assert "validation split entities" in said[0] and "testDataset entities" in said[0]


def _tagger(network):
    from sparkner.ner.tagger import Tagger

    return Tagger(network)
