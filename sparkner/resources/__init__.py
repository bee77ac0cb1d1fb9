"""Pretrained models and vectors bundled with sparkner (loaded offline)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _root() -> Path:
    return Path(str(resources.files(__name__)))


def bundled_names(marker: str) -> list[str]:
    """Names of the bundled folders of one kind, recognized by their ``marker`` file."""
    return sorted(p.name for p in _root().iterdir() if (p / marker).is_file())


def bundled_folder(name: str, marker: str, what: str) -> Path:
    """The folder of bundled ``name``, recognized by its ``marker`` file; the error lists the
    bundled folders of that kind."""
    folder = _root() / name
    if not (folder / marker).is_file():
        raise ValueError(f"unknown pretrained {what} {name!r}; available: {bundled_names(marker)}")
    return folder


def sample_notes() -> dict[str, str]:
    """The fictional sample notes of ``sparkner demo``, by name (file name without .txt)."""
    folder = _root() / "sample_notes"
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}
