"""Path schemes: which paths name this machine's files, and where."""

from __future__ import annotations

import pytest

from sparkner.core.paths import filesystem_path


@pytest.mark.parametrize(
    ("path", "local"),
    [
        ("notes.parquet", "notes.parquet"),
        ("/data/notes", "/data/notes"),
        ("file:///data/notes", "/data/notes"),
        ("file:/data/notes", "/data/notes"),
        ("file://localhost/data/notes", "/data/notes"),
        ("FILE:///data/notes", "/data/notes"),
        ("file:notes", "notes"),
        ("file:///data/a#b?c%20d", "/data/a#b?c%20d"),  # as Hadoop's Path: all of it is path
        ("C:\\data\\notes.csv", "C:\\data\\notes.csv"),  # a drive letter is no scheme
        ("/data/a:b", "/data/a:b"),
        ("hdfs://namenode/data", None),
        ("s3a://bucket/notes", None),
        ("dbfs:/data/notes", None),
    ],
)
def test_filesystem_path(path, local):
    assert filesystem_path(path) == local
