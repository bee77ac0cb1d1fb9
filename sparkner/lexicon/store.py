"""sparkner's lexicon store: a folder with a JSON header, a vocabulary and term arrays.

    lexicon.json     format name and version, name, classes, term counts, fingerprint
    vocabulary.txt   UTF-8, one normalized token per line, in id order (sorted)
    terms.npz        numpy arrays (no objects, loaded with ``allow_pickle=False``):
                     ``lengths`` (uint8, tokens per term), ``classes`` (int16, class index
                     per term) and ``ids`` (int32, the terms' token ids one after another)

Nothing is unpickled or evaluated. Loading needs no Python loop per term: the vocabulary is
one ``split`` and one dict, the terms are three arrays, checked against the header's
fingerprint (SHA-256 of the vocabulary and the arrays) before they are indexed. Nothing is
cached here (a stage keeps what it loads, see sparkner.stages.cache). :meth:`Lexicon.terms`
lists the terms as text.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparkner.core.formats import read_versioned_json
from sparkner.lexicon.matcher import DEFAULT_RULES, Lexicon, LexiconError, build_lexicon
from sparkner.resources import bundled_folder

FORMAT_NAME = "sparkner-lexicon"
FORMAT_VERSION = 1
HEADER_FILE = "lexicon.json"
VOCABULARY_FILE = "vocabulary.txt"
TERMS_FILE = "terms.npz"
NORMALIZATION = "sparkner default tokenizer; NFKC, Unicode lower case, apostrophes as '"


@dataclass(frozen=True)
class LexiconHeader:
    name: str
    classes: tuple[str, ...]
    counts: dict[str, int]
    terms: int
    vocabulary: int
    fingerprint: str

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "name": self.name,
            "classes": list(self.classes),
            "counts": self.counts,
            "terms": self.terms,
            "vocabulary": self.vocabulary,
            "normalization": NORMALIZATION,
            "fingerprint": self.fingerprint,
        }


def _fingerprint(
    vocabulary: bytes, lengths: np.ndarray, classes: np.ndarray, ids: np.ndarray
) -> str:
    digest = hashlib.sha256(vocabulary)
    for array in (lengths, classes, ids):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def write_lexicon(
    directory: str | os.PathLike[str],
    terms_by_class: Mapping[str, Iterable[str]] | Lexicon,
    name: str = "",
) -> LexiconHeader:
    """Write a lexicon store to ``directory`` (created if needed) and return its header.

    ``terms_by_class`` maps each class to raw term strings (tokenized and normalized here,
    see :func:`sparkner.lexicon.matcher.build_lexicon`; a term under several classes keeps
    the first), or is an already built :class:`Lexicon`. The output depends only on the
    terms and classes, not on their order.
    """
    lexicon = (
        terms_by_class
        if isinstance(terms_by_class, Lexicon)
        else build_lexicon(terms_by_class, DEFAULT_RULES, name)
    )
    codes = {cls: i for i, cls in enumerate(lexicon.classes)}
    entries = sorted((tokens, codes[cls]) for cls, tokens in lexicon.token_terms())
    words = sorted({t for tokens, _ in entries for t in tokens})
    if any(not w or any(c.isspace() for c in w) for w in words):
        raise LexiconError("a term token is empty or holds whitespace")
    index = {w: i for i, w in enumerate(words)}
    lengths = np.asarray([len(tokens) for tokens, _ in entries], dtype=np.uint8)
    classes = np.asarray([code for _, code in entries], dtype=np.int16)
    ids = np.asarray([index[t] for tokens, _ in entries for t in tokens], dtype=np.int32)
    vocabulary = "".join(f"{w}\n" for w in words).encode("utf-8")
    counts = {
        cls: int(n)
        for cls, n in zip(lexicon.classes, np.bincount(classes, minlength=len(codes)), strict=True)
    }
    header = LexiconHeader(
        name=name or lexicon.name,
        classes=lexicon.classes,
        counts=counts,
        terms=len(entries),
        vocabulary=len(words),
        fingerprint=_fingerprint(vocabulary, lengths, classes, ids),
    )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / VOCABULARY_FILE).write_bytes(vocabulary)
    with open(folder / TERMS_FILE, "wb") as handle:
        np.savez_compressed(handle, lengths=lengths, classes=classes, ids=ids)
    (folder / HEADER_FILE).write_text(json.dumps(header.to_json(), indent=1) + "\n")
    return header


def read_header(directory: str | os.PathLike[str]) -> LexiconHeader:
    """Read and check a lexicon store's header without reading its terms."""
    path = Path(directory) / HEADER_FILE
    data = read_versioned_json(path, FORMAT_NAME, FORMAT_VERSION, LexiconError, "sparkner lexicon")
    try:
        classes = tuple(str(c) for c in data["classes"])
        counts = {str(k): int(v) for k, v in dict(data["counts"]).items()}
        header = LexiconHeader(
            name=str(data.get("name", "")),
            classes=classes,
            counts=counts,
            terms=int(data["terms"]),
            vocabulary=int(data["vocabulary"]),
            fingerprint=str(data["fingerprint"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LexiconError(f"{path}: missing or invalid field {exc}") from None
    if not classes or len(set(classes)) != len(classes) or header.terms < 0:
        raise LexiconError(f"{path}: invalid classes or term count")
    return header


def _read_store(folder: Path, header: LexiconHeader) -> Lexicon:
    vocabulary_path, terms_path = folder / VOCABULARY_FILE, folder / TERMS_FILE
    try:
        vocabulary = vocabulary_path.read_bytes()
        words = vocabulary.decode("utf-8").split("\n")
    except OSError as exc:
        raise LexiconError(f"{vocabulary_path}: unreadable ({exc.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise LexiconError(f"{vocabulary_path}: not valid UTF-8") from None
    if words[-1] != "" or len(words) - 1 != header.vocabulary:
        raise LexiconError(
            f"{vocabulary_path}: holds {len(words) - 1} tokens, {HEADER_FILE} says "
            f"{header.vocabulary}"
        )
    try:
        with np.load(terms_path, allow_pickle=False) as arrays:
            lengths, classes, ids = arrays["lengths"], arrays["classes"], arrays["ids"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise LexiconError(f"{terms_path}: unreadable ({exc.__class__.__name__})") from None
    if _fingerprint(vocabulary, lengths, classes, ids) != header.fingerprint:
        raise LexiconError(
            f"{terms_path} or {vocabulary_path}: contents do not match the fingerprint in "
            f"{HEADER_FILE} (damaged or edited)"
        )
    if lengths.ndim != 1 or len(lengths) != header.terms or classes.shape != lengths.shape:
        raise LexiconError(f"{terms_path}: holds arrays of the wrong shape")
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    try:
        return Lexicon(
            header.classes,
            words[:-1],
            ids,
            offsets,
            classes,
            fingerprint=header.fingerprint,
            name=header.name,
        )
    except LexiconError as exc:
        raise LexiconError(f"{terms_path}: {exc}") from None


def load_lexicon(directory: str | os.PathLike[str]) -> Lexicon:
    """The lexicon in ``directory``, loaded and checked now. Raises :class:`LexiconError`
    naming the file when the store is missing or damaged."""
    return _read_store(Path(directory), read_header(directory))


def bundled_lexicon(name: str = "lexicon_clinical") -> Lexicon:
    """A lexicon bundled with sparkner (``sparkner/resources/<name>``)."""
    return load_lexicon(bundled_folder(name, HEADER_FILE, "lexicon"))
