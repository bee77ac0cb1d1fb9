"""The job's paths: what it says of a missing input or a taken output, and the temporary folder
beside the output that a table is written to before it is renamed into place. Which paths are
this machine's files is :func:`sparkner.core.paths.filesystem_path`."""

from __future__ import annotations

TEMP_MARKER = ".sparkner-tmp-"


def missing_input(path: str) -> FileNotFoundError:
    return FileNotFoundError(f"input {path}: no such file or folder")


def output_taken(path: str) -> FileExistsError:
    return FileExistsError(f"output {path} exists; pass --overwrite to replace it")


def temporary_beside(output: str, name: str) -> str:
    """The temporary folder ``name`` beside ``output`` (a glob of them with ``*``)."""
    return output.rstrip("/") + TEMP_MARKER + name
