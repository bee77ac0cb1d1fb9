"""Reading sparkner's own file headers and settings files: JSON and YAML, never pickle."""

from __future__ import annotations

import json
import os
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
