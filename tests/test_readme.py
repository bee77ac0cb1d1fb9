"""The README's quickstart runs as written."""

from __future__ import annotations

import re

import pytest
from tests_support import REPO

# Spark jobs, model training or fresh interpreters: the full suite runs these.
pytestmark = pytest.mark.slow


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


def test_readme_pretrained_pipeline_runs(spark, capsys):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Pretrained pipelines", 1)[1].split("\n## ", 1)[0]
    first, *more = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    for number, code in enumerate([first, *more]):  # later blocks continue the first
        exec(compile(code, "README.md", "exec"), namespace)
        printed = capsys.readouterr().out
        shown = re.findall(r"# (\[.*\])", code)  # the comments show what is printed
        assert shown and all(expected in printed for expected in shown)
        if number == 0:
            assert "Fever" in printed and "cough" in printed


def test_readme_sections_example_runs(capsys):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Sections: SectionDetector", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    shown = re.findall(r"^# (.*)$", code, flags=re.M)  # the comments show what is printed
    assert shown and printed == shown


def test_readme_entities_by_section_runs(spark, capsys):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Entities by section", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    namespace: dict = {}
    for code in blocks:  # the second continues the first
        exec(compile(code, "README.md", "exec"), namespace)
        printed = capsys.readouterr().out.splitlines()
        shown = re.findall(r"^# (\[.*\])$", code, flags=re.M)  # the comments show what is printed
        assert shown and printed == shown


def test_readme_demo_output_is_real(spark, capsys):
    from sparkner.apps.cli import main

    readme = (REPO / "README.md").read_text()
    shown = readme.split("sparkner demo\n```\n\n```text\n", 1)[1].split("```", 1)[0]
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "5 sample notes" in out and "rows read            5" in out
    printed = out.splitlines()
    for line in shown.splitlines():
        if line != "...":
            assert line in printed
