"""The recipe for sparkner's bundled word vectors (``embeddings_clinical``).

    sparkner build-embeddings --config conf/embeddings_clinical.yaml --data ../shared/data

Reads the open texts named in the config (never the labels, never a dev or test split),
tokenizes them with sparkner's own SentenceDetector and Tokenizer rules, trains word2vec
with gensim (the ``train`` extra; the run-time package does not need it) and writes a store.

With ``subword: true`` it trains fastText-style vectors instead (each word's vector is the
mean of its own and its character n-grams' vectors). The store has no n-gram table, so the
``subword_words`` most frequent corpus words below the vocabulary cut get their n-gram
vectors precomputed into it: rare spellings, drug names and compounds that word2vec leaves
without a vector, at the run-time cost of a longer word list.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparkner.core.formats import read_settings
from sparkner.embeddings.store import write_store
from sparkner.text.sentences import SentenceRules, split_sentences
from sparkner.text.tokenizing import TokenRules, token_pattern
from sparkner.training import corpora
from sparkner.training.splits import split_keys


@dataclass
class EmbeddingsConfig:
    """What ``conf/embeddings_clinical.yaml`` holds."""

    name: str = "embeddings_clinical"
    # What taggers trained on these vectors record; a new version of the vectors gets a new
    # reference so a tagger trained on the old ones is refused rather than fed other vectors.
    storage_ref: str = ""
    dimension: int = 200
    window: int = 5
    min_count: int = 3
    max_vocab: int = 100_000
    epochs: int = 10
    skip_gram: bool = True
    negative: int = 10
    sample: float = 1e-4
    lowercase: bool = True
    dtype: str = "float16"
    seed: int = 13
    workers: int = 2
    # fastText-style subword vectors (gensim FastText) instead of word2vec: n-grams of
    # min_n to max_n characters, hashed into `bucket` rows.
    subword: bool = False
    min_n: int = 3
    max_n: int = 6
    bucket: int = 2_000_000
    # How many corpus words below the vocabulary cut (fewer than min_count occurrences, or
    # past max_vocab) get a vector from their n-grams in the store, most frequent first.
    subword_words: int = 0
    split_seed: int = 13
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    mtsamples: list[str] = field(default_factory=list)
    line_texts: list[str] = field(default_factory=list)
    pubmedqa: list[str] = field(default_factory=list)
    conll_train: list[str] = field(default_factory=list)
    brat_train: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.subword_words and not self.subword:
            raise ValueError("subword_words needs subword: true (n-gram vectors to build them)")
        if self.subword and not 1 <= self.min_n <= self.max_n:
            raise ValueError(
                f"min_n and max_n must satisfy 1 <= min_n <= max_n, got "
                f"{self.min_n} and {self.max_n}"
            )
        for name in ("bucket", "subword_words"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")


def load_config(path: str | os.PathLike[str]) -> EmbeddingsConfig:
    """Read a YAML config (safe loader only); unknown keys are an error naming the file."""
    data = read_settings(path, EmbeddingsConfig)
    if "split_fractions" in data:
        data["split_fractions"] = tuple(data["split_fractions"])
    try:
        return EmbeddingsConfig(**data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _data_path(data_dir: Path, relative: str) -> Path:
    path = (data_dir / relative).resolve()
    if not path.exists():
        raise FileNotFoundError(f"{relative}: not found under the data folder {data_dir}")
    return path


def source_texts(config: EmbeddingsConfig, data_dir: Path) -> Iterator[tuple[str, str]]:
    """``(source, text)`` for every text of the training corpus."""
    for rel in config.mtsamples:
        for text in corpora.mtsamples_texts(_data_path(data_dir, rel)):
            yield rel, text
    for rel in config.line_texts:
        for text in corpora.line_texts(_data_path(data_dir, rel)):
            yield rel, text
    for rel in config.pubmedqa:
        for text in corpora.pubmedqa_texts(_data_path(data_dir, rel)):
            yield rel, text
    for rel in config.brat_train:
        documents = list(corpora.brat_documents(_data_path(data_dir, rel)))
        splits = split_keys(
            (corpora.brat_group(doc_id) for doc_id, _ in documents),
            config.split_seed,
            config.split_fractions,
        )
        for doc_id, text in documents:
            if splits[corpora.brat_group(doc_id)] == "train":
                yield rel, text


def tokenized_sentences(
    config: EmbeddingsConfig, data_dir: Path, counts: Counter[str]
) -> Iterator[list[str]]:
    """Token lists for word2vec; ``counts`` collects tokens per source."""
    sentence_rules, pattern = SentenceRules(), token_pattern(TokenRules())
    for source, text in source_texts(config, data_dir):
        for begin, end in split_sentences(text, sentence_rules):
            tokens = pattern.findall(text, begin, end)
            if config.lowercase:
                tokens = [t.lower() for t in tokens]
            counts[source] += len(tokens)
            yield tokens
    for rel in config.conll_train:
        for tokens in corpora.conll_sentences(_data_path(data_dir, rel)):
            if config.lowercase:
                tokens = [t.lower() for t in tokens]
            counts[rel] += len(tokens)
            yield tokens


def _train_vectors(config: EmbeddingsConfig, corpus: str) -> Any:
    """The trained gensim model (word2vec, or fastText with ``subword``)."""
    try:
        from gensim.models import FastText, Word2Vec
    except ImportError:
        raise RuntimeError("building embeddings needs gensim: pip install -e '.[train]'") from None
    settings: dict[str, Any] = dict(
        corpus_file=corpus,
        vector_size=config.dimension,
        window=config.window,
        min_count=config.min_count,
        max_final_vocab=config.max_vocab,
        sg=int(config.skip_gram),
        negative=config.negative,
        sample=config.sample,
        epochs=config.epochs,
        seed=config.seed,
        workers=config.workers,
    )
    if not config.subword:
        return Word2Vec(**settings)
    return FastText(**settings, min_n=config.min_n, max_n=config.max_n, bucket=config.bucket)


def subword_candidates(word_counts: Counter[str], vocabulary: set[str], limit: int) -> list[str]:
    """The ``limit`` most frequent words outside ``vocabulary`` (ties in word order)."""
    outside = [(-n, w) for w, n in word_counts.items() if w not in vocabulary]
    return [w for _, w in sorted(outside)[:limit]]


def build_embeddings(
    config: EmbeddingsConfig, data_dir: str | os.PathLike[str], output: str | os.PathLike[str]
) -> dict[str, Any]:
    """Train the vectors and write the store to ``output``; returns the build statistics."""
    data = Path(data_dir)
    counts: Counter[str] = Counter()
    word_counts: Counter[str] = Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as handle:
            for tokens in tokenized_sentences(config, data, counts):
                if tokens:
                    sentence = [t.replace(" ", "_") for t in tokens]
                    if config.subword_words:
                        word_counts.update(sentence)
                    handle.write(" ".join(sentence) + "\n")
        prepared = time.perf_counter()
        model = _train_vectors(config, corpus)
    trained = time.perf_counter()
    words = list(model.wv.index_to_key)
    matrix = model.wv.vectors
    extra = subword_candidates(word_counts, set(words), config.subword_words)
    if extra:
        # A word outside the vocabulary gets the mean of its n-grams' vectors.
        matrix = np.concatenate([matrix, np.stack([model.wv.get_vector(w) for w in extra])])
        words += extra
    header = write_store(output, words, matrix, config.storage_ref or config.name, config.dtype)
    stats = {
        "name": config.name,
        "storage_ref": header.storage_ref,
        "tokens_per_source": dict(counts),
        "tokens": sum(counts.values()),
        "vocabulary": header.count,
        "subword_words": len(extra),
        "dimension": header.dimension,
        "dtype": header.dtype,
        "fingerprint": header.fingerprint,
        "seconds_tokenizing": round(prepared - started, 1),
        "seconds_training": round(trained - prepared, 1),
        "config": asdict(config),
    }
    Path(output, "build.json").write_text(json.dumps(stats, indent=1) + "\n")
    return stats
