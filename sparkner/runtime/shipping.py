"""Getting model folders to the Python workers through Spark, never through driver paths.

A folder bundled with the package (``ner_clinical``, ``embeddings_clinical``...) is not
shipped at all: every executor that runs sparkner's UDFs has sparkner installed, so it reads
the folder from its own copy of the package (checked to be the driver's version). This is also
what makes bundled models work over Spark Connect, where the client cannot reach the cluster's
files.

Any other folder (a fitted or loaded model) is packed into an uncompressed tar and added to
the session as an archive artifact (``SparkSession.addArtifacts``, the same call on classic
Spark and over Spark Connect); each executor unpacks it, and the batch function finds the
folder with ``SparkFiles.get(name)``. The LightPipeline reads the driver's folder directly.
"""

from __future__ import annotations

import os
import tarfile
import threading
from dataclasses import dataclass
from typing import Any, cast

from pyspark.sql import SparkSession

from sparkner import resources
from sparkner._version import __version__
from sparkner.runtime.scratch import scratch_folder

_LOCK = threading.Lock()
# Per Spark session (classic: per application): the names of the archives already added.
_SHIPPED: dict[str, set[str]] = {}


@dataclass(frozen=True)
class FolderLocation:
    """Where a batch function finds a folder: in the worker's installed package (bundled),
    shipped by Spark, or a local path; and the fingerprint of its content, so that a worker
    finds what it loaded from the folder without reading the folder's header again on every
    call."""

    local_path: str
    spark_name: str | None = None
    fingerprint: str = ""
    bundled_name: str | None = None
    # The driver's sparkner version, for a bundled folder: another version's copy may differ.
    bundled_version: str = ""

    def resolve(self) -> str:
        if self.bundled_name is not None:
            return _installed_bundled_folder(self.bundled_name, self.bundled_version)
        if self.spark_name is None:
            return self.local_path
        from pyspark import SparkFiles

        return SparkFiles.get(self.spark_name)


def is_connect(spark: SparkSession) -> bool:
    """Whether ``spark`` is a Spark Connect session (no JVM, no SparkContext in this process)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def ship_folder(spark: SparkSession, folder: str, fingerprint: str) -> FolderLocation:
    """Make the files of ``folder`` reachable from every executor, once per session and
    fingerprint.

    ``fingerprint`` must change whenever the folder's content does (e.g. a content hash):
    it names the shipped archive, so two different folders never collide.
    """
    folder = os.path.realpath(folder)
    bundled = resources.bundled_name_of(folder)
    if bundled is not None:
        return FolderLocation(
            local_path=folder,
            fingerprint=fingerprint,
            bundled_name=bundled,
            bundled_version=__version__,
        )
    name = f"sparkner-{os.path.basename(folder)}-{fingerprint}.tar"
    # A Connect session has an id (and no SparkContext); a classic one, its application's.
    session = cast(Any, spark).session_id if is_connect(spark) else spark.sparkContext.applicationId
    with _LOCK:
        shipped = _SHIPPED.setdefault(session, set())
        if name not in shipped:
            spark.addArtifacts(_pack(folder, name), archive=True)
            shipped.add(name)
    return FolderLocation(local_path=folder, spark_name=name, fingerprint=fingerprint)


def _pack(folder: str, name: str) -> str:
    # In this process's scratch folder: Spark reads the archive until the application ends.
    archive = os.path.join(scratch_folder("ship-"), name)
    with tarfile.open(archive, "w") as tar:
        for entry in sorted(os.listdir(folder)):
            tar.add(os.path.join(folder, entry), arcname=entry)
    return archive


def _installed_bundled_folder(name: str, driver_version: str) -> str:

    if driver_version and driver_version != __version__:
        raise RuntimeError(
            f"the executors have sparkner {__version__} but the driver has {driver_version}; "
            f"the bundled model {name!r} may differ between them: install the same sparkner "
            f"version on the driver and the executors"
        )
    return str(resources.bundled_root() / name)
