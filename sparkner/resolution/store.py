"""A resolver folder: a vocabulary's concepts and aliases, their n-gram index and the
re-ranker, as JSON, text and ``.npy`` files (memory-mapped, nothing unpickled).

    resolver.json        format and version, name, vocabulary, concept classes, ranker
                         weights, the word vectors used, counts, sources, fingerprint
    concepts.txt         code<TAB>name<TAB>aux<TAB>class bits, one concept a line
    aliases.txt          one alias a line, in alias number order
    alias_forms.txt      each alias's normal form (text.normalize), same order; optional
                         (a folder without it normalises aliases as they are met)
    alias_concept.npy    int32, each alias's concept number
    alias_flags.npy      uint8, bit 0: the concept's preferred name
    ngrams.txt           the index's n-grams, one a line
    idf.npy              float32, each n-gram's idf
    postings_indptr.npy  int64, where each n-gram's postings start (plus the end)
    postings_alias.npy   int32, the postings' aliases
    postings_weight.npy  float16, the postings' TF-IDF weights
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sparkner.core.formats import read_versioned_json
from sparkner.resolution.index import NgramIndex, build_index
from sparkner.resolution.ranker import DEFAULT_RANKER, Ranker
from sparkner.resolution.text import normalize

FORMAT_NAME = "sparkner-resolver"
FORMAT_VERSION = 1
HEADER_FILE = "resolver.json"
FORMS_FILE = "alias_forms.txt"
PREFERRED = 1
_ARRAYS = {
    "alias_concept.npy": np.int32,
    "alias_flags.npy": np.uint8,
    "idf.npy": np.float32,
    "postings_indptr.npy": np.int64,
    "postings_alias.npy": np.int32,
    "postings_weight.npy": np.float16,
}


class ResolverError(ValueError):
    """A resolver folder is missing, damaged, or newer than this sparkner."""


@dataclass
class Concept:
    """One concept as a vocabulary builder gives it: its code, preferred name, an auxiliary
    code (a DrugBank drug's UNII, say), its classes and its aliases (the name included)."""

    code: str
    name: str
    aux: str = ""
    classes: tuple[str, ...] = ()
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Vocabulary:
    """A loaded resolver folder."""

    name: str
    vocabulary: str
    codes: list[str]
    names: list[str]
    aux: list[str]
    concept_classes: np.ndarray
    class_names: tuple[str, ...]
    aliases: list[str]
    alias_forms: list[str] | None
    alias_concept: np.ndarray
    alias_flags: np.ndarray
    index: NgramIndex
    ranker: Ranker
    embeddings: str | None
    fingerprint: str


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def write_resolver(
    folder: str | os.PathLike[str],
    name: str,
    vocabulary: str,
    concepts: Sequence[Concept],
    ranker: Ranker = DEFAULT_RANKER,
    embeddings: str | None = None,
    extra: dict[str, object] | None = None,
) -> dict[str, object]:
    """Write a resolver of ``concepts`` to ``folder`` (created if needed); returns its header.
    Aliases are deduplicated per concept by their normal form; aliases with no normal form
    (no letter or digit) are left out."""
    class_names = sorted({c for concept in concepts for c in concept.classes})
    if len(class_names) > 8:
        raise ValueError(f"at most 8 concept classes, got {class_names}")
    codes: list[str] = []
    names: list[str] = []
    aux: list[str] = []
    bits: list[int] = []
    alias_text: list[str] = []
    alias_norm: list[str] = []
    alias_concept: list[int] = []
    alias_flags: list[int] = []
    for concept in concepts:
        number = len(codes)
        codes.append(_clean(concept.code))
        names.append(_clean(concept.name))
        aux.append(_clean(concept.aux))
        bits.append(sum(1 << class_names.index(c) for c in set(concept.classes)))
        seen: set[str] = set()
        preferred = normalize(concept.name)
        for alias in [concept.name, *concept.aliases]:
            alias = _clean(alias)
            norm = normalize(alias)
            if not norm or norm in seen:
                continue
            seen.add(norm)
            alias_text.append(alias)
            alias_norm.append(norm)
            alias_concept.append(number)
            alias_flags.append(PREFERRED if norm == preferred else 0)
    if not codes or not alias_text:
        raise ValueError("a resolver needs at least one concept with an alias")
    index = build_index(alias_norm)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "alias_concept.npy": np.asarray(alias_concept),
        "alias_flags.npy": np.asarray(alias_flags),
        "idf.npy": index.idf,
        "postings_indptr.npy": index.indptr,
        "postings_alias.npy": index.aliases,
        "postings_weight.npy": index.weights,
    }
    for file_name, dtype in _ARRAYS.items():
        np.save(out / file_name, np.ascontiguousarray(arrays[file_name], dtype), allow_pickle=False)
    rows = [f"{c}\t{n}\t{a}\t{b}\n" for c, n, a, b in zip(codes, names, aux, bits, strict=True)]
    (out / "concepts.txt").write_text("".join(rows), encoding="utf-8")
    (out / "aliases.txt").write_text("".join(f"{a}\n" for a in alias_text), encoding="utf-8")
    (out / FORMS_FILE).write_text("".join(f"{a}\n" for a in alias_norm), encoding="utf-8")
    (out / "ngrams.txt").write_text("".join(f"{g}\n" for g in index.ngrams), encoding="utf-8")
    header: dict[str, object] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": name,
        "vocabulary": vocabulary,
        "classes": class_names,
        "ranker": ranker.to_json(),
        "embeddings": embeddings,
        "counts": {"concepts": len(codes), "aliases": len(alias_text), "ngrams": len(index.ngrams)},
        **(extra or {}),
    }
    header["fingerprint"] = _content_digest(out)
    (out / HEADER_FILE).write_text(json.dumps(header, indent=1) + "\n", encoding="utf-8")
    return header


def _content_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file_name in ["concepts.txt", "aliases.txt", FORMS_FILE, "ngrams.txt", *_ARRAYS]:
        if file_name == FORMS_FILE and not (folder / file_name).exists():
            continue
        data = (folder / file_name).read_bytes()
        digest.update(f"{file_name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def read_header(folder: str | os.PathLike[str]) -> dict[str, object]:
    """A resolver folder's header, checked."""
    path = Path(folder) / HEADER_FILE
    return read_versioned_json(path, FORMAT_NAME, FORMAT_VERSION, ResolverError, "resolver")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").split("\n")[:-1]
    except (OSError, UnicodeDecodeError) as exc:
        raise ResolverError(f"{path}: unreadable ({exc})") from None


def load_vocabulary(folder: str | os.PathLike[str]) -> Vocabulary:
    """The resolver in ``folder``: header and text read, arrays memory-mapped; every file
    checked against the others (counts, types)."""
    root = Path(folder)
    header = read_header(root)
    arrays: dict[str, np.ndarray] = {}
    for file_name, dtype in _ARRAYS.items():
        path = root / file_name
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ResolverError(f"{path}: unreadable ({exc})") from None
        if array.dtype != np.dtype(dtype) or array.ndim != 1:
            raise ResolverError(f"{path}: holds {array.dtype} {array.shape}, expected 1-d {dtype}")
        arrays[file_name] = array
    rows = [line.split("\t") for line in _lines(root / "concepts.txt")]
    if any(len(row) != 4 for row in rows):
        raise ResolverError(f"{root / 'concepts.txt'}: expected 4 tab-separated fields a line")
    aliases = _lines(root / "aliases.txt")
    forms = _lines(root / FORMS_FILE) if (root / FORMS_FILE).exists() else None
    ngrams = _lines(root / "ngrams.txt")
    alias_concept = arrays["alias_concept.npy"]
    indptr = arrays["postings_indptr.npy"]
    problems = []
    if len(alias_concept) != len(aliases) or len(arrays["alias_flags.npy"]) != len(aliases):
        problems.append("alias arrays and aliases.txt differ in length")
    if forms is not None and len(forms) != len(aliases):
        problems.append(f"{FORMS_FILE} and aliases.txt differ in length")
    if len(alias_concept) and (alias_concept.min() < 0 or alias_concept.max() >= len(rows)):
        problems.append("an alias names a concept that does not exist")
    if len(indptr) != len(ngrams) + 1 or len(arrays["idf.npy"]) != len(ngrams):
        problems.append("n-gram arrays and ngrams.txt differ in length")
    postings = len(arrays["postings_alias.npy"])
    if int(indptr[-1]) != postings or len(arrays["postings_weight.npy"]) != postings:
        problems.append("the posting arrays differ in length")
    if problems:
        raise ResolverError(f"{root}: damaged resolver ({'; '.join(problems)})")
    try:
        ranker = Ranker.from_json(header["ranker"])  # type: ignore[arg-type]
        class_names = tuple(str(c) for c in header["classes"])  # type: ignore[attr-defined]
        bits = np.asarray([int(row[3]) for row in rows], np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResolverError(f"{root / HEADER_FILE}: invalid field ({exc})") from None
    embeddings = header.get("embeddings")
    index = NgramIndex(
        ngrams=tuple(ngrams),
        idf=arrays["idf.npy"],
        indptr=indptr,
        aliases=arrays["postings_alias.npy"],
        weights=arrays["postings_weight.npy"],
        alias_count=len(aliases),
    )
    return Vocabulary(
        name=str(header.get("name", root.name)),
        vocabulary=str(header.get("vocabulary", "")),
        codes=[row[0] for row in rows],
        names=[row[1] for row in rows],
        aux=[row[2] for row in rows],
        concept_classes=bits,
        class_names=class_names,
        aliases=aliases,
        alias_forms=forms,
        alias_concept=alias_concept,
        alias_flags=arrays["alias_flags.npy"],
        index=index,
        ranker=ranker,
        embeddings=str(embeddings) if embeddings else None,
        fingerprint=str(header.get("fingerprint", "")),
    )
