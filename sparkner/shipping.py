"""Getting model folders to the Python workers through Spark, never through driver paths.

Spark ships single files (``addFile``) and archives (``addArchive``), but not local folders
to a cluster, so a stage that needs a folder of files (an embeddings store, tagger weights)
packs it into an uncompressed tar once, ships that, and each executor unpacks it; the batch
function finds the folder with ``SparkFiles.get(name)``. The LightPipeline reads the
driver's folder directly.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass

from pyspark.sql import SparkSession

_LOCK = threading.Lock()
# Per Spark application: the names of the archives already shipped.
_SHIPPED: dict[str, set[str]] = {}


@dataclass(frozen=True)
class FolderLocation:
    """Where a batch function finds a folder: shipped by Spark, or a local path; and the
    fingerprint of its content, so that a worker finds what it loaded from the folder
    without reading the folder's header again on every call."""

    local_path: str
    spark_name: str | None = None
    fingerprint: str = ""

    def resolve(self) -> str:
        if self.spark_name is None:
            return self.local_path
        from pyspark import SparkFiles

        return SparkFiles.get(self.spark_name)


def ship_folder(spark: SparkSession, folder: str, fingerprint: str) -> FolderLocation:
    """Ship the files of ``folder`` to every executor, once per application and fingerprint.

    ``fingerprint`` must change whenever the folder's content does (e.g. a content hash):
    it names the shipped archive, so two different folders never collide.
    """
    folder = os.path.realpath(folder)
    name = f"sparkner-{os.path.basename(folder)}-{fingerprint}.tar"
    context = spark.sparkContext
    with _LOCK:
        shipped = _SHIPPED.setdefault(context.applicationId, set())
        if name not in shipped:
            context.addArchive(_pack(folder, name))
            shipped.add(name)
    return FolderLocation(local_path=folder, spark_name=name, fingerprint=fingerprint)


def _pack(folder: str, name: str) -> str:
    staging = tempfile.mkdtemp(prefix="sparkner-ship-")
    atexit.register(shutil.rmtree, staging, True)
    archive = os.path.join(staging, name)
    with tarfile.open(archive, "w") as tar:
        for entry in sorted(os.listdir(folder)):
            tar.add(os.path.join(folder, entry), arcname=entry)
    return archive
