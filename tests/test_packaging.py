"""The package as pip builds it: every subpackage listed, so a wheel install is complete."""

from __future__ import annotations

import pytest
from tests_support import REPO


def test_every_subpackage_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(settings["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "sparkner").rglob("__init__.py")
    }
    assert found - listed == set(), "add these packages to [tool.setuptools] packages"
    assert settings["package-dir"]["sparkner.conf"] == "conf"
