"""The annotate job's table committed by rename: a failed write leaves the old table."""

from __future__ import annotations

import os

import pytest
from pyspark.sql import functions as F

from sparkner.apps.annotate import TEMP_MARKER, HadoopFiles

# Spark jobs: the full suite runs these.
pytestmark = pytest.mark.slow


def test_failed_write_keeps_the_old_output_and_leaves_no_temporary(spark, tmp_path):
    output = str(tmp_path / "table")
    files = HadoopFiles(spark)
    files.write_committed(spark.range(3), output, "parquet", overwrite=False)
    stale = tmp_path / f"table{TEMP_MARKER}deadbeef"  # left by a killed run
    stale.mkdir()
    failing = spark.range(10).select(
        F.when(F.col("id") == 7, F.raise_error(F.lit("injected failure"))).otherwise(F.col("id"))
    )
    with pytest.raises(Exception, match="injected failure"):
        files.write_committed(failing, output, "parquet", overwrite=True)
    assert sorted(r.id for r in spark.read.parquet(output).collect()) == [0, 1, 2]
    assert [n for n in os.listdir(tmp_path) if TEMP_MARKER in n] == []
    files.write_committed(spark.range(5), output, "parquet", overwrite=True)
    assert spark.read.parquet(output).count() == 5
    assert os.path.exists(os.path.join(output, "_SUCCESS"))
