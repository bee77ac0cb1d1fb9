"""A saved tagger's config and file names, readable without TensorFlow.

The Spark driver only reads a tagger's config (its tags, its vectors' storageRef); keeping this
apart from the network lets it plan a job without loading TensorFlow.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sparkner.core.formats import read_versioned_json

# A head's name becomes part of weight names (head_<name>_out_kernel): plain identifiers only.
# Here, beside the config, so that a recipe is checked without loading TensorFlow.
HEAD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

CONFIG_FILE = "tagger.json"
WEIGHTS_FILE = "weights.npz"
FORMAT_NAME = "sparkner-tagger"
FORMAT_VERSION = 1
PAD_CHAR, UNKNOWN_CHAR = 0, 1


class TaggerFileError(ValueError):
    """A saved tagger is missing, damaged, or newer than this sparkner."""


@dataclass
class TaggerConfig:
    tags: list[str]
    chars: list[str]  # character vocabulary; char i has id i + 2 (0 pads, 1 is unknown)
    word_dim: int
    storage_ref: str = ""
    char_dim: int = 25
    char_filters: int = 30
    char_width: int = 3
    max_word_chars: int = 30
    hidden: int = 100
    layers: int = 1
    dropout: float = 0.5
    extra: dict = field(default_factory=dict)  # training settings and figures, for the record
    # The classes of the lexicon column the tagger was trained with, in the order of its
    # features (empty: no lexicon features; tagger.json then has no such key).
    lexicon_classes: list[str] = field(default_factory=list)

    @property
    def num_tags(self) -> int:
        return len(self.tags)

    @property
    def lexicon_width(self) -> int:
        """Size of the per-token lexicon one-hot (O, then B-c, I-c per class), or 0."""
        return 1 + 2 * len(self.lexicon_classes) if self.lexicon_classes else 0

    def lexicon_labels(self) -> list[str]:
        """The names of the lexicon codes (as sparkner.lexicon.matcher.token_class_labels)."""
        if not self.lexicon_classes:
            return []
        return ["O"] + [f"{p}-{c}" for c in self.lexicon_classes for p in ("B", "I")]

    def char_index(self) -> dict[str, int]:
        return {c: i + 2 for i, c in enumerate(self.chars)}


def read_config(folder: str | os.PathLike[str]) -> TaggerConfig:
    path = Path(folder) / CONFIG_FILE
    data = read_versioned_json(path, FORMAT_NAME, FORMAT_VERSION, TaggerFileError, "saved tagger")
    try:
        config = TaggerConfig(**data)
    except TypeError as exc:
        raise TaggerFileError(f"{path}: unexpected or missing settings ({exc})") from None
    try:
        check_lexicon_classes(config.lexicon_classes)
    except ValueError as exc:
        raise TaggerFileError(f"{path}: {exc}") from None
    return config


def check_lexicon_classes(classes: object) -> None:
    """A saved config's ``lexicon_classes``: a list of distinct, non-empty class names."""
    if (
        not isinstance(classes, list)
        or not all(isinstance(c, str) and c for c in classes)
        or len(set(classes)) != len(classes)
    ):
        raise ValueError("lexicon_classes must be distinct class names")


def add_to_record(folder: str | os.PathLike[str], **entries: object) -> None:
    """Add entries to the training record (``extra``) of a tagger saved in ``folder``."""
    path = Path(folder) / CONFIG_FILE
    read_config(folder)  # refuse a damaged or foreign file before rewriting it
    data = json.loads(path.read_text())
    data["extra"] = {**data.get("extra", {}), **entries}
    path.write_text(json.dumps(data, indent=1) + "\n")


def read_weights(path: str | os.PathLike[str], data: bytes | None = None) -> dict[str, np.ndarray]:
    """A tagger's weights as named arrays, each read whole (so a truncated or damaged file is
    found here, not in a task) and never unpickled; ``data`` is the file's bytes if at hand."""
    try:
        source = io.BytesIO(data) if data is not None else path
        with np.load(source, allow_pickle=False) as arrays:
            if not isinstance(arrays, np.lib.npyio.NpzFile) or not arrays.files:
                raise ValueError("not an archive of arrays")
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise TaggerFileError(f"{path}: unreadable ({exc.__class__.__name__})") from None
