"""Saving and loading stages that carry a folder of files (vectors, weights) besides params.

On disk: Spark ML's usual ``metadata/`` (class, uid, params as JSON) plus ``files/``, a copy
of the stage's folder. Loading reads JSON and numpy arrays only; nothing is unpickled.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
from typing import Any

from pyspark.ml.util import (
    DefaultParamsReader,
    DefaultParamsWriter,
    MLReadable,
    MLReader,
    MLWritable,
    MLWriter,
)

from sparkner.core.paths import filesystem_path

FILES_DIR = "files"
PIPELINE_CLASS = "pyspark.ml.pipeline.PipelineModel"
# A stage uid as Spark ML makes them (ClassName_hex): no separators, no "..".
_PLAIN_UID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def local_path(path: str) -> str:
    """A local filesystem path from a path or ``file:`` URI; other schemes are refused."""
    local = filesystem_path(path)
    if local is None:
        raise ValueError(
            f"{path}: sparkner saves and loads models on local or mounted paths only; copy the "
            f"model to such a path (e.g. a DBFS /dbfs/... mount) first"
        )
    return local


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
    def read(cls) -> Any:  # an MLReader; Any, as pyspark's DefaultParamsReadable types its own
        return FolderStageReader(cls)


def check_saved_pipeline(path: str) -> None:
    """Check a saved PipelineModel before Spark ML loads it.

    pyspark's loader imports whatever class a stage's metadata names and joins folder names
    from the stage uids it lists. A pipeline from elsewhere must therefore hold sparkner
    stages only, under plain uids, so that no other code runs and no path leaves the folder.
    """
    root = local_path(path)
    pipeline = _metadata(root, path)
    if pipeline.get("class") != PIPELINE_CLASS:
        raise ValueError(f"{path}: not a saved PipelineModel (class {pipeline.get('class')!r})")
    uids = pipeline.get("paramMap", {}).get("stageUids")
    if not isinstance(uids, list) or not uids:
        raise ValueError(f"{path}: the pipeline metadata lists no stageUids")
    digits = len(str(len(uids)))
    for index, uid in enumerate(uids):
        if not isinstance(uid, str) or not _PLAIN_UID.match(uid):
            raise ValueError(f"{path}: stage {index} has uid {uid!r}, not a plain name")
        stage = _metadata(os.path.join(root, "stages", f"{index:0{digits}d}_{uid}"), path)
        name = str(stage.get("class", ""))
        if not name.startswith("sparkner.") or stage.get("uid") != uid:
            raise ValueError(
                f"{path}: stage {index} ({uid}) is a {name!r}; only sparkner stages are loaded"
            )


def _metadata(folder: str, path: str) -> dict[str, Any]:
    parts = sorted(glob.glob(os.path.join(glob.escape(folder), "metadata", "part-*")))
    if not parts:
        raise FileNotFoundError(
            f"{path}: no metadata in {os.path.relpath(folder, local_path(path))}"
        )
    try:
        with open(parts[0], encoding="utf-8") as handle:
            data = json.loads(handle.readline())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{parts[0]}: unreadable metadata ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{parts[0]}: metadata is not a JSON object")
    return data
