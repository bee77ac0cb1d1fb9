"""The annotate job's settings, checked before Spark starts."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from sparkner.apps.annotate import AnnotateJob


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"input": "missing.parquet"}, FileNotFoundError, "input missing.parquet: no such file"),
        ({"output_format": "xml"}, ValueError, "--format 'xml'"),
        ({"input_format": "xls"}, ValueError, "--input-format 'xls'"),
        ({"partitions": 0}, ValueError, "--partitions 0"),
        ({"output": "EXISTING"}, FileExistsError, "exists; pass --overwrite"),
        ({"output": "INPUT", "overwrite": True}, ValueError, "is the input"),
    ],
)
def test_settings_checked_before_spark(tmp_path, monkeypatch, changes, error, message):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"text": ["x"]}).to_parquet("in.parquet")
    os.mkdir("EXISTING")
    settings = {"input": "in.parquet", "output": "out", **changes}
    settings["output"] = "in.parquet" if settings["output"] == "INPUT" else settings["output"]
    with pytest.raises(error, match=message):
        AnnotateJob(**settings).check()


def test_resolve_names_are_checked_before_spark():
    job = AnnotateJob("in.parquet", "out", resolve=("icd10cm", "snomed"))
    with pytest.raises(ValueError, match=r"--resolve icd10cm,snomed: names of \['icd10cm'"):
        job.check(local_paths=False)
