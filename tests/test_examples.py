"""The examples: annotate_notes.py under the real spark-submit, and the notebook in both of its
formats (the Databricks source runs cell by cell; the .ipynb has the same cells)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyspark
import pytest
from tests_support import result_of_new_process

from sparkner.runtime.java import ensure_java

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
JOB = EXAMPLES / "annotate_notes.py"
NOTEBOOK_SOURCE = EXAMPLES / "clinical_ner_notebook.py"
NOTEBOOK = EXAMPLES / "clinical_ner_notebook.ipynb"
SEPARATOR = "# COMMAND ----------"

NOTES = [
    ("note-1", "Chest pain and fever for two days. Chest CT was normal."),
    ("note-2", "She was started on aspirin 81 mg for coronary artery disease."),
    ("note-3", None),
    ("note-4", ""),
    ("note-5", "HISTORY: Type 2 diabetes on metformin.\nMRI of the brain showed no stroke."),
    ("note-6", "Patient 😀 reports cough; a chest x-ray was ordered and amoxicillin given."),
]
ENTITY_COLUMNS = [
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
ENTITY_TYPES = [
    pa.string(),
    pa.string(),
    pa.string(),
    pa.int32(),
    pa.int32(),
    pa.int32(),
    pa.float32(),
    pa.string(),
    pa.string(),
]


def load_example_module(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- annotate_notes.py ---------------------------------------------------------------------


def spark_submit() -> str:
    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def submit(master: str, notes: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run the example the way its docstring says, through the installed pyspark's launcher."""
    env = {
        **os.environ,
        # The executors' Python (the driver's too): this interpreter, with sparkner installed.
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "JAVA_HOME": ensure_java(),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    command = [
        spark_submit(),
        "--master",
        master,
        "--conf",
        "spark.driver.host=127.0.0.1",
        "--conf",
        "spark.driver.bindAddress=127.0.0.1",
        "--conf",
        "spark.ui.enabled=false",
        str(JOB),
        str(notes),
        str(output),
        "--id-col",
        "note_id",
        "--partitions",
        "2",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    return out


def summary_of(stdout: str) -> dict[str, str]:
    """The summary lines, ``label  value`` (labels are words separated by single spaces)."""
    values = {}
    for line in stdout.splitlines():
        label, sep, value = line.partition("  ")
        if sep:
            values[label.strip()] = value.strip()
    return values


def check_entity_table(output: Path, out: subprocess.CompletedProcess[str]) -> pd.DataFrame:
    table = pq.read_table(output)
    assert table.schema.names == ENTITY_COLUMNS
    assert table.schema.types == ENTITY_TYPES
    rows = table.to_pandas()
    texts = dict(NOTES)
    assert len(rows) > 0
    for row in rows.itertuples():
        text = texts[row.note_id]
        assert text, f"an entity in {row.note_id}, which has no text"
        assert 0 <= row.begin <= row.end < len(text)
        assert text[row.begin : row.end + 1] == row.chunk, (row.note_id, row.begin, row.end)
        assert row.entity in ("PROBLEM", "TEST", "TREATMENT")
        assert 0.0 < row.confidence <= 1.0
    # Something found in the emoji note too: offsets count characters, not UTF-16 units.
    assert "note-6" in set(rows.note_id)

    summary = summary_of(out.stdout)
    assert summary["rows read"] == str(len(NOTES))
    assert summary["rows written"].split()[0] == f"{len(rows):,}"
    assert summary["notes with entities"] == str(rows.note_id.nunique())
    # The job prints counts, never note text.
    for _, text in NOTES:
        if text:
            assert text not in out.stdout and text not in out.stderr
    for chunk in {c for c in rows.chunk if len(c) >= 4}:
        assert chunk not in out.stdout.replace(summary["output"], "")
    return rows


@pytest.fixture(scope="module")
def notes_parquet(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("notes") / "notes.parquet"
    pd.DataFrame(NOTES, columns=["note_id", "text"]).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def local_run(notes_parquet, tmp_path_factory):
    output = tmp_path_factory.mktemp("local") / "entities"
    out = submit("local[2]", notes_parquet, output)
    return output, out


def sorted_rows(rows: pd.DataFrame) -> list[tuple]:
    return sorted(rows.itertuples(index=False, name=None))


@pytest.mark.slow
def test_annotate_notes_with_spark_submit_local(local_run):
    output, out = local_run
    check_entity_table(output, out)
    # spark-submit's --master is the one used (sparkner.start() reuses its session).
    assert summary_of(out.stdout)["spark master"] == "local[2]"
    assert not [p for p in output.parent.iterdir() if ".sparkner-tmp-" in p.name]


@pytest.mark.slow
def test_annotate_notes_on_local_cluster_matches_local(local_run, notes_parquet, tmp_path):
    output = tmp_path / "entities"
    # Two executor JVMs of 1 core and 2 GB each, their own Python workers: the models reach
    # them through Spark, as on a real cluster.
    out = submit("local-cluster[2,1,2048]", notes_parquet, output)
    # The executors' working folders go to a "work" folder inside SPARK_HOME, one per
    # application: remove this run's.
    for app_id in set(re.findall(r"\bapp-\d{14}-\d{4,}\b", out.stderr)):
        shutil.rmtree(Path(pyspark.__file__).parent / "work" / app_id, ignore_errors=True)
    assert summary_of(out.stdout)["spark master"] == "local-cluster[2,1,2048]"
    cluster = sorted_rows(check_entity_table(output, out))
    local = sorted_rows(pq.read_table(local_run[0]).to_pandas())
    # Exactly, confidences included: both runs spread the one input partition over the same
    # 2 tasks, so every Python worker tags the same batches with one TensorFlow thread. (A
    # different batching moves scores by up to ~3e-7, rarely the 4th decimal written.)
    assert cluster == local


def test_annotate_notes_fails_fast_without_spark(tmp_path, capsys):
    job = load_example_module("annotate_notes")
    assert job.main([str(tmp_path / "missing.parquet"), str(tmp_path / "out")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "notes.parquet").write_bytes(b"")
    (tmp_path / "out").mkdir()
    assert job.main([str(tmp_path / "notes.parquet"), str(tmp_path / "out")]) == 2
    assert "--overwrite" in capsys.readouterr().err


# -- the notebook --------------------------------------------------------------------------


def source_code_cells(source: str) -> list[str]:
    """The code cells of a Databricks source notebook, read independently of
    examples/build_notebook.py: split on the separator, drop the header and MAGIC cells."""
    cells = []
    for cell in source.split(SEPARATOR):
        lines = [line for line in cell.strip("\n").splitlines()]
        if lines and lines[0] == "# Databricks notebook source":
            lines = lines[1:]
        text = "\n".join(lines).strip("\n")
        if text and not all(line.startswith("# MAGIC") for line in text.splitlines()):
            cells.append(text)
    return cells


def test_notebook_source_is_in_databricks_format():
    source = NOTEBOOK_SOURCE.read_text(encoding="utf-8")
    assert source.startswith("# Databricks notebook source\n")
    # Databricks writes each separator between blank lines.
    assert source.count(SEPARATOR) == source.count(f"\n\n{SEPARATOR}\n\n")
    cells = source.removeprefix("# Databricks notebook source\n").split(SEPARATOR)
    # A cell is code, or markdown: every line "# MAGIC", the first "# MAGIC %md".
    markdown = [c.strip().splitlines() for c in cells if "# MAGIC" in c]
    assert markdown and all(lines[0] == "# MAGIC %md" for lines in markdown)
    assert all(line.startswith("# MAGIC") for lines in markdown for line in lines)
    assert len(source_code_cells(source)) >= 8


def test_ipynb_has_the_cells_of_the_source():
    builder = load_example_module("build_notebook")
    source = NOTEBOOK_SOURCE.read_text(encoding="utf-8")
    committed = NOTEBOOK.read_text(encoding="utf-8")
    assert committed == builder.notebook_text(source), (
        "examples/clinical_ner_notebook.ipynb is stale: run python examples/build_notebook.py"
    )
    notebook = json.loads(committed)
    assert notebook["nbformat"] == 4
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert ["".join(c["source"]) for c in code] == source_code_cells(source)
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    kinds = {c["cell_type"] for c in notebook["cells"]}
    assert kinds == {"code", "markdown"}
    markdown = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    assert markdown[0].startswith("# Clinical NER with sparkner")
    assert not any("# MAGIC" in text or "%md" in text.split("\n")[0] for text in markdown)


NOTEBOOK_RUNNER = textwrap.dedent(
    """
    import json, os
    os.environ["SPARKNER_OUTPUT"] = {output!r}
    import sparkner

    # What Databricks provides: a running session as `spark`, and displayHTML.
    spark = sparkner.start(master="local[2]")
    shown = []

    def displayHTML(html):
        shown.append(html)
        with open({html!r}, "w", encoding="utf-8") as handle:
            handle.write(html)

    namespace = {{"__name__": "__main__", "spark": spark, "displayHTML": displayHTML}}
    source = open({path!r}, encoding="utf-8").read()
    ran = 0
    for number, cell in enumerate(source.split("# COMMAND ----------")):
        lines = [l for l in cell.splitlines() if l.strip()]
        lines = [l for l in lines if l != "# Databricks notebook source"]
        if not lines or all(l.startswith("# MAGIC") for l in lines):
            continue
        exec(compile(cell, "notebook cell %d" % number, "exec"), namespace)
        ran += 1
    print("RESULT=" + json.dumps({{
        "cells": ran, "shown": len(shown), "same_session": namespace["spark"] is spark,
        "master": spark.sparkContext.master,
    }}))
    """
)


@pytest.mark.slow
def test_notebook_runs_cell_by_cell(tmp_path):
    html_path, output = tmp_path / "shown.html", tmp_path / "entities"
    script = NOTEBOOK_RUNNER.format(
        output=str(output), html=str(html_path), path=str(NOTEBOOK_SOURCE)
    )
    result = json.loads(result_of_new_process(script, timeout=300))
    source = NOTEBOOK_SOURCE.read_text(encoding="utf-8")
    assert result == {
        "cells": len(source_code_cells(source)),
        "shown": 1,
        "same_session": True,
        "master": "local[2]",
    }
    html = html_path.read_text(encoding="utf-8")
    assert '<mark class="sparkner-entity" data-entity="' in html
    assert any(f'data-entity="{t}"' in html for t in ("PROBLEM", "TEST", "TREATMENT"))
    table = pq.read_table(output)
    assert {"id", "chunk", "entity", "begin", "end", "confidence"} <= set(table.schema.names)
    assert table.num_rows > 0


# -- the figures examples/README.md quotes ------------------------------------------------
@pytest.mark.slow
def test_the_outputs_quoted_in_the_examples_readme_are_what_the_example_prints(
    spark, tmp_path, monkeypatch, capsys
):
    """The README's table of the sample notes and the job's summary for it: every quoted
    line is printed, except the machine's own (master, times) and the output's path."""
    readme = (EXAMPLES / "README.md").read_text()
    setup = re.search(r"```bash\npython - <<'EOF'\n(.*?)EOF\n```", readme, flags=re.S)
    quoted = readme.split("### With plain Python", 1)[1].split("```text\n", 1)[1]
    quoted = quoted.split("```", 1)[0]
    assert setup and quoted
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(spark, "stop", lambda: None)  # the example's own session is the suite's
    exec(compile(setup.group(1), "examples/README.md", "exec"), {})
    job = load_example_module("annotate_notes")
    # Absolute paths: the suite's JVM keeps its own working folder.
    notes, entities = str(tmp_path / "notes.parquet"), str(tmp_path / "entities")
    assert job.main([notes, entities, "--id-col", "note_id"]) == 0
    printed = capsys.readouterr().out.splitlines()
    machine_specific = ("spark master", "start-up", "annotating", "output")
    lines = [line for line in quoted.splitlines() if not line.startswith(machine_specific)]
    assert len(lines) >= 6
    for line in lines:
        assert line in printed, line
