"""The README's quickstart runs as written."""

from __future__ import annotations

import re

from conftest import REPO


def test_readme_quickstart_runs(spark, capsys):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    first, second = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    exec(compile(first, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "['Dr. Smith saw her.', 'She denies dyspnea.']" in printed
    assert "120/80" in printed and "q.d." in printed
    exec(compile(second, "README.md", "exec"), namespace)  # continues the first block
    printed = capsys.readouterr().out
    assert "entity" in printed and "PROBLEM" in printed
    assert "'Fever'" in printed or "'fever'" in printed.lower()


def test_readme_names_the_ci_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    for command in ('pip install -e ".[dev]"', "pytest -q"):
        assert command in readme and command in ci
