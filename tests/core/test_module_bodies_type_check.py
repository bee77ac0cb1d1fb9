"""The code of the modules that have stubs type-checks too.

A stub (``.pyi``) shadows its module for mypy, so ``mypy`` in CI reads the annotator modules'
signatures only. Here the package is checked once more without its stubs, with the project's
settings: every error must be one that the stubs exist for (a setter or getter made at run
time), none in the code itself."""

from __future__ import annotations

import re
import shutil

import pytest
from tests_support import REPO

# What mypy says of an accessor that declare() makes at run time, e.g. '"NerDLModel" has no
# attribute "getIncludeConfidence"'.
RUN_TIME_ACCESSOR = re.compile(r'has no attribute "(?:set|get)[A-Z]\w*"')


@pytest.mark.slow
def test_module_bodies_type_check_without_their_stubs(tmp_path, monkeypatch):
    api = pytest.importorskip("mypy.api")
    shutil.copytree(
        REPO / "sparkner", tmp_path / "sparkner", ignore=shutil.ignore_patterns("*.pyi")
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    out, err, _ = api.run(["--cache-dir", str(tmp_path / "cache")])
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert errors, out + err  # the accessors are invisible without stubs: the check ran
    assert [e for e in errors if not RUN_TIME_ACCESSOR.search(e)] == []
