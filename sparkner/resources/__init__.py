"""Pretrained models and vectors bundled with sparkner (loaded offline)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def bundled_root() -> Path:
    """The folder of the bundled models in this process's installed sparkner."""
    return Path(str(resources.files(__name__)))


def bundled_name_of(folder: str | os.PathLike[str]) -> str | None:
    """The name of ``folder`` if it is one of the bundled folders, else None."""
    path = Path(os.path.realpath(folder))
    return path.name if path.parent == Path(os.path.realpath(bundled_root())) else None


def bundled_names(marker: str) -> list[str]:
    """Names of the bundled folders of one kind, recognized by their ``marker`` file."""
    return sorted(p.name for p in bundled_root().iterdir() if (p / marker).is_file())


def bundled_folder(name: str, marker: str, what: str) -> Path:
    """The folder of bundled ``name``, recognized by its ``marker`` file; the error lists the
    bundled folders of that kind."""
    folder = bundled_root() / name
    if not (folder / marker).is_file():
        raise ValueError(f"unknown pretrained {what} {name!r}; available: {bundled_names(marker)}")
    return folder


def sample_notes() -> dict[str, str]:
    """The fictional sample notes of ``sparkner demo``, by name (file name without .txt)."""
    folder = bundled_root() / "sample_notes"
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}
