"""Getting model folders to the Python workers through Spark, never through driver paths.

A stage that needs files (an embeddings store, tagger weights) ships its folder with
``SparkContext.addFile(..., recursive=True)``; each executor fetches a copy, and the batch
function finds it with ``SparkFiles.get(name)``. The LightPipeline reads the driver's folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass

from pyspark.sql import SparkSession

_LOCK = threading.Lock()
# Per Spark application: shipped name -> the local folder it was shipped from.
_SHIPPED: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class FolderLocation:
    """Where a batch function finds a folder: shipped by Spark, or a local path."""

    local_path: str
    spark_name: str | None = None

    def resolve(self) -> str:
        if self.spark_name is None:
            return self.local_path
        from pyspark import SparkFiles

        return SparkFiles.get(self.spark_name)


def ship_folder(spark: SparkSession, folder: str, unique_suffix: str) -> FolderLocation:
    """Ship ``folder`` to every executor once per application; returns how to find it there.

    Spark ships a folder under its base name, so a second, different folder with the same
    name is first copied to a name made unique with ``unique_suffix`` (e.g. a fingerprint).
    """
    folder = os.path.realpath(folder)
    context = spark.sparkContext
    with _LOCK:
        shipped = _SHIPPED.setdefault(context.applicationId, {})
        name = os.path.basename(folder)
        if shipped.get(name) not in (None, folder):
            name = f"{name}-{unique_suffix}"
            if name not in shipped:
                staging = os.path.join(tempfile.mkdtemp(prefix="sparkner-ship-"), name)
                shutil.copytree(folder, staging)
                context.addFile(staging, recursive=True)
                shipped[name] = folder
        elif name not in shipped:
            context.addFile(folder, recursive=True)
            shipped[name] = folder
    return FolderLocation(local_path=folder, spark_name=name)
