"""Pretrained models and vectors bundled with sparkner (loaded offline)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_folder(name: str, marker: str, what: str) -> Path:
    """The folder of bundled ``name``, recognized by its ``marker`` file; the error lists the
    bundled folders of that kind."""
    root = Path(str(resources.files(__name__)))
    folder = root / name
    if not (folder / marker).is_file():
        available = sorted(p.name for p in root.iterdir() if (p / marker).is_file())
        raise ValueError(f"unknown pretrained {what} {name!r}; available: {available}")
    return folder
