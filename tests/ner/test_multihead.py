"""One encoder, several heads: each head is exactly a single-head tagger, saving is exact and
safe, and a partly labelled corpus does not teach its unlabelled tokens as O."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sparkner.ner.config import TaggerConfig, TaggerFileError, read_config
from sparkner.ner.crf import viterbi_decode
from sparkner.ner.data import SentenceSet
from sparkner.ner.multihead import (
    MULTIHEAD_CONFIG_FILE,
    MULTIHEAD_WEIGHTS_FILE,
    MultiHeadNetwork,
    partial_allowed,
)
from sparkner.ner.network import TaggerNetwork
from sparkner.ner.tagger import Tagger
from sparkner.ner.training import (
    HeadData,
    HeadSpec,
    TrainingSettings,
    corpus_batches,
    head_loss,
    train_heads,
)

CLINICAL = ["O", "B-PROBLEM", "I-PROBLEM", "B-TEST", "I-TEST"]
DRUGS = ["O", "B-DRUG", "I-DRUG"]


def tiny_config(tags: list[str], **changes) -> TaggerConfig:
    settings = dict(chars=list("abcdefghij"), word_dim=6, char_dim=5, char_filters=7, hidden=8)
    return TaggerConfig(tags=list(tags), **{**settings, **changes})


@pytest.fixture(scope="module")
def network() -> MultiHeadNetwork:
    heads = [HeadSpec("clinical", CLINICAL), HeadSpec("drugs", DRUGS, partial=True)]
    net = MultiHeadNetwork(tiny_config(CLINICAL), heads, seed=3)
    rng = np.random.default_rng(0)
    for v in net.variables:  # non-trivial weights, so any mix-up of heads would show
        v.assign(rng.normal(scale=0.5, size=v.shape).astype(np.float32))
    return net


def batch(seed: int = 1, lengths=(5, 1, 7, 3)):
    rng = np.random.default_rng(seed)
    steps = max(lengths)
    vectors = rng.normal(size=(len(lengths), steps, 6)).astype(np.float32)
    chars = rng.integers(0, 12, size=(len(lengths), steps, 10)).astype(np.int32)
    return vectors, chars, np.array(lengths, np.int32)


def test_a_heads_emissions_are_those_of_its_single_head_network(network):
    vectors, chars, lengths = batch()
    outputs = []
    for spec in network.specs:
        single = network.head_network(spec.name)
        assert single.config.tags == spec.tags and single.config.hidden == 8
        got = network.emissions(spec.name, vectors, chars, lengths).numpy()
        np.testing.assert_array_equal(got, single.emissions(vectors, chars, lengths).numpy())
        outputs.append(got)
    assert outputs[0].shape[-1] == 5 and outputs[1].shape[-1] == 3
    # The heads share the encoder, not the output: their scores differ.
    assert not np.allclose(outputs[0][..., :3], outputs[1])


def test_heads_are_validated():
    config = tiny_config(DRUGS)
    for heads, message in [
        ([], "at least one head"),
        ([HeadSpec("drugs", DRUGS), HeadSpec("drugs", DRUGS)], "distinct"),
        ([HeadSpec("my drugs", DRUGS)], "simple identifier"),
        ([HeadSpec("drugs", ["B-DRUG", "O"])], "'O' first"),
        ([HeadSpec("drugs", ["O", "DRUG"])], "IOB2"),
        ([HeadSpec("clinical", CLINICAL)], "first head's"),
    ]:
        with pytest.raises(ValueError, match=message):
            MultiHeadNetwork(config, heads)


@pytest.mark.slow  # a fresh interpreter
def test_save_then_load_in_a_new_process_gives_the_same_emissions(network, tmp_path):
    network.save(tmp_path / "model")
    vectors, chars, lengths = batch(2)
    np.savez(tmp_path / "inputs.npz", vectors=vectors, chars=chars, lengths=lengths)
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from sparkner.ner.multihead import MultiHeadNetwork
        model, inputs, out = sys.argv[1:]
        net = MultiHeadNetwork.load(model)
        x = np.load(inputs)
        for spec in net.specs:
            scores = net.emissions(spec.name, x["vectors"], x["chars"], x["lengths"])
            np.save(f"{out}/{spec.name}.npy", scores.numpy())
    """)
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "model"),
            str(tmp_path / "inputs.npz"),
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for spec in network.specs:
        want = network.emissions(spec.name, vectors, chars, lengths).numpy()
        np.testing.assert_array_equal(np.load(tmp_path / f"{spec.name}.npy"), want)
    loaded = MultiHeadNetwork.load(tmp_path / "model")
    assert loaded.specs == network.specs and loaded.config == network.config


def _damage(folder, how: str):
    """Damage a saved multi-head network; returns the file the error must name."""
    header, weights = folder / MULTIHEAD_CONFIG_FILE, folder / MULTIHEAD_WEIGHTS_FILE
    data = json.loads(header.read_text())
    arrays = dict(np.load(weights))
    if how == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:500])
        return weights
    if how == "pickled weights":
        np.savez(weights, **{**arrays, "char_kernel": np.array([object()], dtype=object)})
        return weights
    if how == "float64 weights":
        np.savez(weights, **{k: v.astype(np.float64) for k, v in arrays.items()})
        return weights
    if how == "a head's tags changed":
        data["heads"][1]["tags"] = [*DRUGS, "B-DOSE"]
    elif how == "a head dropped":
        data["heads"] = data["heads"][:1]
        header.write_text(json.dumps(data))
        return weights
    elif how == "not JSON":
        header.write_text('{"format": "sparkner-multihead-tagger", ')
        return header
    elif how == "foreign format":
        data["format"] = "sparkner-tagger"
    elif how == "newer version":
        data["version"] = 99
    elif how == "bad head name":
        data["heads"][1]["name"] = "../drugs"
    elif how == "unknown key":
        data["extra_heads"] = []
    elif how == "no file":
        header.unlink()
    else:
        raise AssertionError(how)
    if header.exists():
        header.write_text(json.dumps(data))
    return weights if how == "a head's tags changed" else header


@pytest.mark.parametrize(
    "how",
    [
        "truncated weights",
        "pickled weights",
        "float64 weights",
        "a head's tags changed",
        "a head dropped",
        "not JSON",
        "foreign format",
        "newer version",
        "bad head name",
        "unknown key",
        "no file",
    ],
)
def test_damaged_foreign_or_mismatched_files_are_refused(network, tmp_path, how):
    network.save(tmp_path)
    named = _damage(tmp_path, how)
    name = named.name if how == "no file" else str(named)
    with pytest.raises(TaggerFileError, match=re.escape(name)):
        MultiHeadNetwork.load(tmp_path)


def test_a_single_head_tagger_folder_is_not_a_multihead_one(network, tmp_path):
    network.head_network("drugs").save(tmp_path)
    with pytest.raises(TaggerFileError, match=re.escape(MULTIHEAD_CONFIG_FILE)):
        MultiHeadNetwork.load(tmp_path)


def test_a_saved_head_is_an_ordinary_tagger(network, tmp_path):
    network.head_network("drugs").save(tmp_path)
    assert read_config(tmp_path).tags == DRUGS
    loaded = TaggerNetwork.load(tmp_path)
    with np.load(tmp_path / "weights.npz") as stored:  # the usual weights, nothing more
        assert sorted(stored.files) == sorted(v.name.split(":")[0] for v in loaded.variables)
    vectors, chars, lengths = batch(3)
    emissions = network.emissions("drugs", vectors, chars, lengths).numpy()
    transitions, start, end = (v.numpy() for v in network.head_variables("drugs")[2:])
    want = viterbi_decode(emissions, lengths, transitions, start, end)
    valid = np.arange(vectors.shape[1])[None, :] < lengths[:, None]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    tags, scores = Tagger(loaded).predict(vectors[valid], chars[valid], offsets)
    np.testing.assert_array_equal(tags, want[valid])
    assert scores.shape == (int(lengths.sum()), 3)


def test_the_partial_loss_with_every_token_labelled_is_the_full_loss():
    heads = [HeadSpec("full", CLINICAL), HeadSpec("part", CLINICAL, partial=True)]
    net = MultiHeadNetwork(tiny_config(CLINICAL), heads, seed=1)
    rng = np.random.default_rng(2)
    for a, b in zip(net.head_variables("full"), net.head_variables("part"), strict=True):
        a.assign(rng.normal(size=a.shape).astype(np.float32))
        b.assign(a)
    vectors, chars, lengths = batch(4)
    tags = rng.integers(0, len(CLINICAL), size=vectors.shape[:2]).astype(np.int32)
    full = head_loss(net, "full", vectors, chars, lengths, tags).numpy()
    one_hot = np.eye(len(CLINICAL), dtype=bool)[tags]
    part = head_loss(net, "part", vectors, chars, lengths, one_hot).numpy()
    assert full > 0 and part == pytest.approx(full, rel=1e-5)
    # Nothing labelled: every path is consistent, nothing is learnt.
    nothing = head_loss(net, "part", vectors, chars, lengths, np.ones_like(one_hot)).numpy()
    assert nothing == pytest.approx(0.0, abs=1e-4)


def test_partial_allowed_keeps_labelled_tags_and_frees_the_rest():
    # "x pain y": "pain" a labelled PROBLEM, "x" a labelled O, "y" unlabelled.
    sentences = SentenceSet(
        np.zeros(3, np.int32), np.array([0, 1, 0], np.int16), np.array([0, 3], np.int64)
    )
    allowed = partial_allowed(sentences, np.array([True, True, False]), CLINICAL)
    assert allowed.tolist() == [
        [True, False, False, False, False],
        [False, True, False, False, False],
        [True, True, False, True, True],  # not I-PROBLEM: the labelled span ends at "pain"
    ]


def test_sampling_weights_set_the_batches_per_epoch():
    offsets = np.arange(0, 41, 2, dtype=np.int64)  # 20 sentences of 2 tokens
    sentences = SentenceSet(np.zeros(40, np.int32), np.zeros(40, np.int16), offsets)
    rng = np.random.default_rng(0)
    counts = {
        w: len(corpus_batches(HeadData("a", sentences, weight=w), 4, rng)) for w in (0.5, 1, 2.0)
    }
    assert counts == {0.5: 3, 1: 5, 2.0: 10}
    twice = np.concatenate(corpus_batches(HeadData("a", sentences, weight=2.0), 4, rng))
    assert np.bincount(twice).tolist() == [2] * 20


# -- training on a synthetic two-corpus problem ------------------------------------------------
FILLERS = ["the", "a", "on", "was", "seen", "today", "and", "with"]
WORDS = [*FILLERS, "zorp", "blix"]
ZORP, BLIX = 8, 9
ENTITY = ["O", "B-X"]


def two_corpora(seed: int):
    """A fully labelled corpus where "zorp" and "blix" are both X; a partly labelled one whose
    fillers are known O, whose "blix" is labelled X in a quarter of the sentences only, and
    whose "zorp" is never labelled. Unlabelled tokens are stored with tag O, which only the
    partial loss ignores."""
    rng = np.random.default_rng(seed)

    def corpus(count: int, partial: bool):
        ids, tags, known, lengths = [], [], [], []
        for _ in range(count):
            words = list(rng.integers(0, len(FILLERS), size=rng.integers(2, 5)))
            entities = [ZORP, BLIX] if partial else [int(rng.choice([ZORP, BLIX]))]
            for word in entities:
                words.insert(int(rng.integers(0, len(words) + 1)), word)
            missed = partial and rng.random() < 0.75  # this sentence's "blix" is unlabelled
            tags += [int((w == BLIX and not missed) or (w == ZORP and not partial)) for w in words]
            known += [not partial or (w != ZORP and not (w == BLIX and missed)) for w in words]
            ids += words
            lengths.append(len(words))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        sentences = SentenceSet(np.array(ids, np.int32), np.array(tags, np.int16), offsets)
        return sentences, np.array(known)

    full, _ = corpus(24, partial=False)
    validation, _ = corpus(8, partial=False)
    part, known = corpus(24, partial=True)
    vectors = rng.normal(size=(len(WORDS), 6)).astype(np.float32)
    return vectors, full, validation, part, partial_allowed(part, known, ENTITY)


def train(partial: bool, epochs: int = 10, seed: int = 0):
    """Both corpora, the partial one's head trained as partial (or, as a control, not)."""
    vectors, full, validation, part, allowed = two_corpora(seed)
    heads = [HeadSpec("full", ENTITY), HeadSpec("part", ENTITY, partial=partial)]
    config = tiny_config(ENTITY, chars=sorted(set("".join(WORDS))), char_filters=8)
    network = MultiHeadNetwork(config, heads, seed=seed)
    data = [
        HeadData("full", full, validation=validation),
        HeadData("part", part, allowed if partial else None),
    ]
    settings = TrainingSettings(
        max_epochs=epochs,
        lr=0.02,
        batch_size=8,
        dropout=0.1,
        patience=0,
        seed=seed,
        use_best_model=False,
        verbose=False,
        log=lambda line: None,
    )
    records = train_heads(network, WORDS, vectors, data, settings, "full", Tagger)
    return network, records, (vectors, part)


def partial_head(network: MultiHeadNetwork, vectors: np.ndarray, sentences: SentenceSet):
    """The partial head's tags and P(O) per token of ``sentences``, by the inference path."""
    tagger = Tagger(network.head_network("part"))
    ids = sentences.word_ids
    tags, scores = tagger.tag(vectors[ids], [WORDS[i] for i in ids], sentences.offsets)
    return ids, tags, scores[:, 0]


def test_training_learns_and_a_partial_corpus_does_not_teach_unlabelled_tokens_as_o():
    network, records, corpus = train(partial=True)
    first, last = records[0], records[-1]
    for head in ("full", "part"):
        assert last.head_loss[head] < 0.1 * first.head_loss[head]
    assert last.loss < 0.1 * first.loss and last.validation["f1"] == 1.0
    ids, tags, p_outside = partial_head(network, *corpus)
    # "blix", labelled X in a quarter of the sentences and unlabelled elsewhere, is X.
    assert (tags[ids == BLIX] == 1).mean() > 0.9
    # "zorp", never labelled in this corpus, is not taught as O: the shared encoder's
    # notion of X (from the full corpus) carries over.
    assert p_outside[ids == ZORP].mean() < 0.5
    assert (tags[ids < len(FILLERS)] == 0).all()


@pytest.mark.slow
def test_the_same_corpus_taken_as_fully_labelled_teaches_unlabelled_tokens_as_o():
    """The control of the test above: without the partial loss, "zorp" is learnt as O."""
    network, _, corpus = train(partial=False)
    ids, tags, p_outside = partial_head(network, *corpus)
    assert p_outside[ids == ZORP].mean() > 0.9 and (tags[ids == ZORP] == 0).all()


@pytest.mark.slow  # two trainings
def test_training_is_deterministic_given_the_seed():
    (one, first, _), (two, second, _) = train(True, epochs=2), train(True, epochs=2)
    assert [r.head_loss for r in first] == [r.head_loss for r in second]
    for a, b in zip(one.variables, two.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
