"""The README's quickstart runs as written."""

from __future__ import annotations

import re

from conftest import REPO


def test_readme_quickstart_runs(spark, capsys):
    readme = (REPO / "README.md").read_text()
    (code,) = re.findall(r"## Quickstart\s+```python\n(.*?)```", readme, flags=re.S)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "['Dr. Smith saw her.', 'She denies dyspnea.']" in printed
    assert "120/80" in printed and "q.d." in printed


def test_readme_names_the_ci_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    for command in ('pip install -e ".[dev]"', "pytest -q"):
        assert command in readme and command in ci
