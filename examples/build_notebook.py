"""Write clinical_ner_notebook.ipynb from clinical_ner_notebook.py, so the two never drift.

The .py is the source: Databricks' notebook source format (first line
``# Databricks notebook source``, cells separated by ``# COMMAND ----------``, markdown cells
as ``# MAGIC %md`` lines). The .ipynb gets the same cells, in nbformat 4, with no outputs.
After editing the .py, run::

    python examples/build_notebook.py

tests/test_examples.py fails while the committed .ipynb differs from what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
MAGIC = "# MAGIC"
HERE = Path(__file__).resolve().parent
SOURCE = HERE / "clinical_ner_notebook.py"
NOTEBOOK = HERE / "clinical_ner_notebook.ipynb"


def read_cells(source: str) -> list[tuple[str, str]]:
    """The cells of a Databricks source notebook as ``(kind, text)``, kind ``code`` or
    ``markdown``; markdown text without the ``# MAGIC`` prefixes and the ``%md`` line."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise ValueError(f"not a Databricks notebook source: the first line is not {HEADER!r}")
    cells: list[list[str]] = [[]]
    for line in lines[1:]:
        if line.strip() == SEPARATOR:
            cells.append([])
        else:
            cells[-1].append(line)
    result = []
    for cell in cells:
        text = "\n".join(cell).strip("\n")
        if not text:
            continue
        if all(line.startswith(MAGIC) for line in text.splitlines()):
            magic = [line.removeprefix(MAGIC).removeprefix(" ") for line in text.splitlines()]
            if magic[0].strip() != "%md":
                raise ValueError(f"only %md magic cells are supported, not {magic[0]!r}")
            result.append(("markdown", "\n".join(magic[1:]).strip("\n")))
        else:
            result.append(("code", text))
    return result


def to_notebook(cells: list[tuple[str, str]]) -> dict:
    """An nbformat 4 notebook of ``cells``: no outputs, kernel python3."""

    def source_lines(text: str) -> list[str]:
        return text.splitlines(keepends=True)

    notebook_cells = []
    for kind, text in cells:
        cell: dict = {"cell_type": kind, "metadata": {}, "source": source_lines(text)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        notebook_cells.append(cell)
    return {
        "cells": notebook_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }


def notebook_text(source: str) -> str:
    """The .ipynb file's text for the Databricks source ``source``."""
    return json.dumps(to_notebook(read_cells(source)), indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    NOTEBOOK.write_text(notebook_text(SOURCE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
