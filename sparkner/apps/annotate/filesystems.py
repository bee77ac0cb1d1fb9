"""The job's two ways to the files: Hadoop's FileSystem in a classic session, Spark's own reads
and writes over Spark Connect. Both write the entity table so that it appears whole or not at
all under the output's name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from sparkner.apps.annotate.formats import writer_of
from sparkner.apps.annotate.paths import missing_input, output_taken, temporary_beside
from sparkner.runtime.shipping import is_connect


class HadoopFiles:
    """Files through Hadoop's FileSystem, so local paths, HDFS and object stores behave alike."""

    def __init__(self, spark: SparkSession) -> None:
        jvm = spark.sparkContext._jvm
        assert jvm is not None  # a classic session's context has its JVM
        self._jvm = jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def read(self, reader: Callable[[], DataFrame], path: str) -> DataFrame:
        return reader()

    def partitions_of(self, frame: DataFrame) -> int:
        return int(frame.rdd.getNumPartitions())

    def _fs_path(self, path: str) -> tuple[Any, Any]:  # py4j FileSystem and Path
        hadoop_path = self._jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(self._conf), hadoop_path

    def exists(self, path: str) -> bool:
        fs, hadoop_path = self._fs_path(path)
        return bool(fs.exists(hadoop_path))

    def delete(self, path: str) -> None:
        fs, hadoop_path = self._fs_path(path)
        fs.delete(hadoop_path, True)

    def stale_temporaries(self, output: str) -> list[str]:
        """Temporary folders left beside ``output`` by runs that were killed."""
        fs, hadoop_path = self._fs_path(temporary_beside(output, "*"))
        found = fs.globStatus(hadoop_path) or []
        return [str(status.getPath().toString()) for status in found]

    def write_committed(self, table: DataFrame, output: str, fmt: str, overwrite: bool) -> None:
        """Write ``table`` to a temporary folder beside ``output``, then rename it into place."""
        for stale in self.stale_temporaries(output):
            self.delete(stale)
        temporary = temporary_beside(output, uuid.uuid4().hex[:12])
        writer = writer_of(table, fmt)
        try:
            writer.save(temporary)
            if self.exists(output):
                if not overwrite:
                    raise FileExistsError(f"output {output} appeared while the job ran")
                self.delete(output)
            fs, target = self._fs_path(output)
            _, source = self._fs_path(temporary)
            if not fs.rename(source, target):
                raise OSError(f"could not rename the finished table into {output}")
        finally:
            if self.exists(temporary):
                self.delete(temporary)


class ConnectFiles:
    """The job's files over Spark Connect, where this process has no Hadoop FileSystem.

    Whether a path exists is learned from Spark's own errors, and the table is written with
    Spark's commit protocol: it appears under the output's name only when complete (with
    Spark's ``_SUCCESS`` marker), but a run killed while replacing an existing output
    (``--overwrite``) leaves no output rather than the old one.
    """

    def exists(self, path: str) -> bool | None:
        return None  # unknown until Spark reads or writes it

    def read(self, reader: Callable[[], DataFrame], path: str) -> DataFrame:
        try:
            notes = reader()
            notes.schema  # noqa: B018  (analysis: a missing path fails here)
        except AnalysisException as exc:
            if exc.getCondition() == "PATH_NOT_FOUND":
                raise missing_input(path) from None
            raise
        return notes

    def partitions_of(self, frame: DataFrame) -> int:
        # No RDD over Connect: the input's files are a lower bound of its partitions.
        return len(frame.inputFiles())

    def write_committed(self, table: DataFrame, output: str, fmt: str, overwrite: bool) -> None:
        writer = writer_of(table, fmt).mode("overwrite" if overwrite else "error")
        try:
            writer.save(output)
        except AnalysisException as exc:
            if exc.getCondition() == "PATH_ALREADY_EXISTS":
                raise output_taken(output) from None
            raise


def files_of(spark: SparkSession) -> HadoopFiles | ConnectFiles:
    """The way to the files of ``spark``'s kind of session."""
    return ConnectFiles() if is_connect(spark) else HadoopFiles(spark)
