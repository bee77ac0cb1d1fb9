"""Notes for the annotate job's tests, and writing them as a table of any input format."""

from __future__ import annotations

import pandas as pd

# The entity table's columns for notes with an id column called note_id, in their order.
COLUMNS = [
    "note_id",
    "chunk",
    "entity",
    "begin",
    "end",
    "sentence",
    "confidence",
    "assertion",
    "section",
]

NOTES = [
    ("a-1", "Fever and cough for two days. Chest CT showed pneumonia; started ceftriaxone."),
    ("a-2", None),
    ("a-3", ""),
    ("a-4", "12345 !!!"),
    ("a-5", 'She takes "metformin" for diabetes,\nand an MRI of the brain was normal.'),
]


def write_notes(tmp_path, fmt: str, notes=NOTES) -> str:
    frame = pd.DataFrame(notes, columns=["note_id", "note"])
    path = tmp_path / f"notes.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return str(path)
