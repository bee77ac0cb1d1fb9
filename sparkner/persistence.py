"""Saving and loading stages that carry a folder of files (vectors, weights) besides params.

On disk: Spark ML's usual ``metadata/`` (class, uid, params as JSON) plus ``files/``, a copy
of the stage's folder. Loading reads JSON and numpy arrays only; nothing is unpickled.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any

from pyspark.ml.util import (
    DefaultParamsReader,
    DefaultParamsWriter,
    MLReadable,
    MLReader,
    MLWritable,
    MLWriter,
)

FILES_DIR = "files"


def local_path(path: str) -> str:
    """A local filesystem path from a path or ``file:`` URI; other schemes are refused."""
    if path.startswith("file://"):
        return path[len("file://") :]
    if path.startswith("file:"):
        return path[len("file:") :]
    if "://" in path:
        raise ValueError(
            f"{path}: sparkner saves and loads models on local or mounted paths only; copy the "
            f"model to such a path (e.g. a DBFS /dbfs/... mount) first"
        )
    return path


def scratch_folder(prefix: str) -> str:
    """A private folder for freshly fitted files, removed when the process exits."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, True)
    return folder


class FolderStageWriter(MLWriter):
    def __init__(self, instance: Any) -> None:
        super().__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:
        DefaultParamsWriter.saveMetadata(self.instance, path, self.sparkSession)
        target = os.path.join(local_path(path), FILES_DIR)
        if os.path.exists(target):
            shutil.rmtree(target)
        shutil.copytree(self.instance.files_folder(), target)


class FolderStageReader(MLReader):
    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> Any:
        metadata = DefaultParamsReader.loadMetadata(path, self.sparkSession)
        instance = self.cls()
        instance._resetUid(metadata["uid"])
        DefaultParamsReader.getAndSetParams(instance, metadata)
        instance.attach_files(os.path.join(local_path(path), FILES_DIR))
        return instance


class FolderStageReadWrite(MLReadable, MLWritable):
    """Mixin for a stage whose state is params plus a folder of files.

    The stage provides ``files_folder()`` (where its files are now) and
    ``attach_files(folder)`` (check a folder and use it).
    """

    def write(self) -> MLWriter:
        return FolderStageWriter(self)

    @classmethod
    def read(cls) -> MLReader:
        return FolderStageReader(cls)
