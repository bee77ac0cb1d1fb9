"""The tagger network: padding never changes a sentence's scores; saving is exact and safe."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparkner.ner.network import TaggerConfig, TaggerFileError, TaggerNetwork
from sparkner.ner.tagger import Tagger


@pytest.fixture(scope="module")
def network():
    config = TaggerConfig(tags=["O", "B-X", "I-X"], chars=list("abcdefghij"), word_dim=6, hidden=8)
    net = TaggerNetwork(config, seed=3)
    rng = np.random.default_rng(0)
    for v in net.variables:  # non-trivial weights, so padding effects would show
        v.assign(rng.normal(scale=0.5, size=v.shape).astype(np.float32))
    return net


def inputs(rng, lengths, dim=6, width=30):
    total = int(sum(lengths))
    vectors = rng.normal(size=(total, dim)).astype(np.float32)
    chars = rng.integers(0, 12, size=(total, width)).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return vectors, chars, offsets


def test_scores_do_not_depend_on_batching(network, monkeypatch):
    import sparkner.ner.tagger as tagger_module

    rng = np.random.default_rng(1)
    vectors, chars, offsets = inputs(rng, [5, 1, 12, 3, 7])
    tagger = Tagger(network)
    together = tagger.predict(vectors, chars, offsets)
    monkeypatch.setattr(tagger_module, "TOKENS_PER_BATCH", 1)  # every sentence alone
    alone = tagger.predict(vectors, chars, offsets)
    np.testing.assert_array_equal(together[0], alone[0])
    np.testing.assert_allclose(together[1], alone[1], atol=1e-5)


def test_empty_sentences_and_no_tokens(network):
    tagger = Tagger(network)
    rng = np.random.default_rng(2)
    vectors, chars, _ = inputs(rng, [3])
    tags, scores = tagger.predict(vectors, chars, np.array([0, 0, 3, 3]))
    assert tags.shape == (3,) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    tags, scores = tagger.predict(vectors[:0], chars[:0], np.array([0]))
    assert tags.shape == (0,) and scores.shape == (0, 3)


def test_char_ids_cover_unseen_and_long_words(network):
    ids = Tagger(network).char_ids(["abc", "😀é", "a" * 1000, ""])
    assert ids.shape == (4, 30)
    assert ids[0, :3].tolist() == [2, 3, 4] and ids[0, 3] == 0
    assert ids[1, :2].tolist() == [1, 1]  # unknown characters
    assert (ids[2] == 2).all()  # cut at max_word_chars
    assert (ids[3] == 0).all()


def test_save_and_load_exactly(network, tmp_path):
    network.save(tmp_path)
    loaded = TaggerNetwork.load(tmp_path)
    for a, b in zip(network.variables, loaded.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded.config.tags == ["O", "B-X", "I-X"]


def test_newer_format_and_damaged_weights_are_refused(network, tmp_path):
    network.save(tmp_path)
    config = json.loads((tmp_path / "tagger.json").read_text())
    (tmp_path / "tagger.json").write_text(json.dumps({**config, "version": 5}))
    with pytest.raises(TaggerFileError, match="version 5 is newer"):
        TaggerNetwork.load(tmp_path)
    (tmp_path / "tagger.json").write_text(json.dumps(config))
    data = (tmp_path / "weights.npz").read_bytes()
    (tmp_path / "weights.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(TaggerFileError, match=r"weights\.npz"):
        TaggerNetwork.load(tmp_path)


def test_pickled_weights_are_never_loaded(network, tmp_path):
    network.save(tmp_path)
    np.savez(tmp_path / "weights.npz", char_embeddings=np.array([object()], dtype=object))
    with pytest.raises(TaggerFileError):
        TaggerNetwork.load(tmp_path)


def reference_emissions(net, vectors, char_features, length):
    """One sentence's tag scores, stepped through in numpy with the textbook LSTM."""
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    features = np.concatenate([vectors[:length], char_features[:length]], axis=-1)
    outputs = []
    for kernel, bias, direction in net.lstm:
        kernel, bias = kernel.numpy(), bias.numpy()
        hidden = kernel.shape[1] // 4
        h, c, hs = np.zeros(hidden), np.zeros(hidden), []
        steps = range(length) if direction == "fw" else reversed(range(length))
        for t in steps:
            i, f, g, o = np.split(np.concatenate([features[t], h]) @ kernel + bias, 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            hs.append(h)
        outputs.append(np.array(hs if direction == "fw" else hs[::-1]))
        if direction == "bw":
            features = np.concatenate(outputs, axis=-1)
            outputs = []
    return features @ net.out_kernel.numpy() + net.out_bias.numpy()


@pytest.mark.parametrize("fused", [True, False])
def test_lstm_is_the_textbook_lstm_and_padding_gives_zeros(network, fused):
    rng = np.random.default_rng(4)
    lengths = np.array([5, 1, 7, 3], np.int32)
    vectors = rng.normal(size=(4, 7, 6)).astype(np.float32)
    char_features = rng.normal(size=(4, 7, 30)).astype(np.float32)
    got = network.emissions_from(vectors, char_features, lengths, fused=fused).numpy()
    for b, length in enumerate(lengths):
        want = reference_emissions(network, vectors[b], char_features[b], length)
        np.testing.assert_allclose(got[b, :length], want, atol=1e-4)
        padding = network.out_bias.numpy()[None].repeat(7 - length, axis=0)
        np.testing.assert_allclose(got[b, length:], padding)


@pytest.mark.slow
def test_training_gradients_match_finite_differences(network):
    """Every weight's gradient of the training loss, entry by entry, against central
    differences (TensorFlow's fused LSTM kernel fails this; training must not use it)."""
    import tensorflow as tf

    from sparkner.ner.training import SINGLE_HEAD, OneHead, head_loss

    rng = np.random.default_rng(5)
    lengths = np.array([4, 2, 1], np.int32)
    vectors = rng.normal(size=(3, 4, 6)).astype(np.float32)
    chars = rng.integers(2, 12, size=(3, 4, 5)).astype(np.int32)
    tags = rng.integers(0, 3, size=(3, 4)).astype(np.int32)

    def loss() -> tf.Tensor:
        return head_loss(OneHead(network), SINGLE_HEAD, vectors, chars, lengths, tags)

    with tf.GradientTape() as tape:
        value = loss()
    variables = [v for v in network.trainable_variables if v.name != "char_embeddings:0"]
    grads = tape.gradient(value, variables)
    for variable, grad in zip(variables, grads, strict=True):
        original, grad = variable.numpy(), tf.convert_to_tensor(grad).numpy()
        for flat in rng.choice(original.size, size=min(6, original.size), replace=False):
            index = np.unravel_index(flat, original.shape)
            step = np.zeros_like(original)
            step[index] = 1e-2
            variable.assign(original + step)
            up = float(loss())
            variable.assign(original - step)
            down = float(loss())
            variable.assign(original)
            numeric = (up - down) / 2e-2
            assert abs(numeric - grad[index]) < 1e-2 + 2e-2 * abs(grad[index]), (
                variable.name,
                index,
                numeric,
                grad[index],
            )


def test_a_loaded_tagger_keeps_word_features_and_tags_the_same(network):
    """A loaded tagger caches each word's char-CNN features: the second call runs no
    char-CNN for words it has seen, and every call tags as a tagger without the cache."""
    words = ["abc", "bad", "abc", None, "jig", "", "fade", "bad"]
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(len(words), 6)).astype(np.float32)
    offsets = np.array([0, 3, 3, 8])
    plain, cached = Tagger(network), Tagger(network, cache_words=True)
    want = plain.tag(vectors, words, offsets)
    first = cached.tag(vectors, words, offsets)
    assert sorted(cached._word_features) == ["", "abc", "bad", "fade", "jig"]
    calls = []
    original = cached._char_features_of
    cached._char_features_of = lambda table: calls.append(len(table)) or original(table)
    again = cached.tag(vectors, words, offsets)
    mixed = cached.tag(vectors[:3], ["abc", "new", "jig"], np.array([0, 3]))
    assert calls == [2]  # "new" and the padding row: the only char-CNN run
    for got in (first, again):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], atol=1e-6)
    fresh = plain.tag(vectors[:3], ["abc", "new", "jig"], np.array([0, 3]))
    np.testing.assert_allclose(mixed[1], fresh[1], atol=1e-6)
    # A validator (no cache) sees new weights at once.
    assert plain._word_features is None
