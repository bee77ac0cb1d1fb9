"""Reading sparkner's own file headers and settings files: JSON and YAML, never pickle."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml


def read_versioned_json(
    path: str | os.PathLike[str],
    format_name: str,
    supported: int,
    error: type[Exception],
    what: str,
) -> dict[str, Any]:
    """The fields of a ``{"format": ..., "version": ...}`` JSON header, without those two.

    Raises ``error`` naming the file when it is missing, not JSON, of another format, or
    written by a newer sparkner (``version`` above ``supported``).
    """
    file = Path(path)
    if not file.is_file():
        raise error(f"{file.parent}: not a {what} (no {file.name})")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{file}: not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.pop("format", None) != format_name:
        raise error(f"{file}: not a {format_name} file")
    version = data.pop("version", None)
    if not isinstance(version, int) or version > supported:
        raise error(
            f"{file}: {what} format version {version!r} is newer than this sparkner reads "
            f"({supported}); upgrade sparkner"
        )
    return data


def read_settings(path: str | os.PathLike[str], settings_class: type) -> dict[str, Any]:
    """A YAML mapping (safe loader) whose keys must all be fields of ``settings_class``."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings at the top level")
    known = {f.name for f in fields(settings_class)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown setting(s) {unknown}; known: {sorted(known)}")
    return data


def text_lines(path: str | os.PathLike[str], what: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of each non-blank line of a UTF-8 file, ends trimmed; a missing
    file or a line that is not UTF-8 is refused naming the file (as ``what``) and the line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such {what}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not UTF-8 text ({exc.reason})") from None
            if line:
                yield number, line


def text_pairs(
    path: str | os.PathLike[str], what: str, shape: tuple[str, str], separator: str = "\t"
) -> list[tuple[str, str]]:
    """``(left, right)`` of each non-blank ``left<separator>right`` line of a UTF-8 file;
    a line without both is refused naming the file, the line and ``shape`` (the two parts'
    names, e.g. ``("code", "term")``)."""
    pairs = []
    shown = "<TAB>" if separator == "\t" else separator
    for number, line in text_lines(path, what):
        left, found, right = line.partition(separator)
        if not found or not left.strip() or not right.strip():
            raise ValueError(f"{path}, line {number}: expected '{shape[0]}{shown}{shape[1]}'")
        pairs.append((left.strip(), right.strip()))
    return pairs
