"""Where the executors find a model's folder: bundled folders from their own installed
sparkner (no Spark call at all, which is what makes them work over Spark Connect), any other
folder as an archive artifact added once per session."""

from __future__ import annotations

import pytest

import sparkner
from sparkner.resources import bundled_folder, bundled_name_of
from sparkner.runtime.shipping import FolderLocation, is_connect, ship_folder


class NoSpark:
    """A session whose every use fails: shipping a bundled folder must not touch Spark."""

    def __getattr__(self, name: str):
        raise AssertionError(f"Spark was used: {name}")


def test_a_bundled_folder_is_found_in_the_installed_package(tmp_path):
    folder = bundled_folder("ner_clinical", "tagger.json", "tagger")
    location = ship_folder(NoSpark(), str(folder), "fingerprint")  # type: ignore[arg-type]
    assert location.bundled_name == "ner_clinical" and location.spark_name is None
    assert location.bundled_version == sparkner.__version__
    assert location.resolve() == str(folder)
    assert bundled_name_of(folder) == "ner_clinical"
    assert bundled_name_of(tmp_path) is None
    assert bundled_name_of(folder / "tagger.json") is None


def test_executors_with_another_sparkner_version_are_refused():
    location = FolderLocation("/driver/path", bundled_name="ner_clinical", bundled_version="0.0.1")
    with pytest.raises(RuntimeError, match=r"executors have sparkner .* driver has 0\.0\.1"):
        location.resolve()


def test_other_folders_are_added_once_per_session_as_archives(spark, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.txt").write_text("1 2 3")
    first = ship_folder(spark, str(folder), "abc123")
    again = ship_folder(spark, str(folder), "abc123")
    assert first == again and first.spark_name == "sparkner-model-abc123.tar"
    assert first.bundled_name is None and not is_connect(spark)
    # The executors see the folder's files (a Python worker reads them back).
    from pyspark.sql import functions as F

    @F.udf("string")
    def read_back(_):  # no type hints: a plain UDF, not a pandas one
        import os

        path = first.resolve()
        return open(os.path.join(path, "weights.txt")).read()

    assert spark.range(1).select(read_back("id")).first()[0] == "1 2 3"
