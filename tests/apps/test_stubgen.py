"""The type stubs that spell out the generated setters and getters: current with the code,
shipped with the package, their types derived from each param's converter."""

from __future__ import annotations

import importlib

import pytest
from pyspark.ml.param import TypeConverters
from tests_support import REPO

from sparkner.core.params import declare, no_effect, to_int, to_list_of, warn_unless

stubgen = pytest.importorskip("sparkner.apps.stubgen")
pytest.importorskip("mypy")


def test_checked_in_stubs_are_current():
    problems = stubgen.stale()
    assert not problems, (
        f"the type stubs are stale ({'; '.join(problems)}): run `{stubgen.COMMAND}`"
    )


def test_every_generated_accessor_is_in_a_stub():
    for name, path in stubgen.stub_modules().items():
        stub = path.with_suffix(".pyi").read_text()
        for cls in stubgen.accessor_classes(importlib.import_module(name)):
            for method in vars(cls)["generated_accessors"]:
                assert f"def {method}(self" in stub, (cls, method)


def test_stubs_and_the_typed_marker_ship_with_the_package():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "*.pyi" in data["package-data"]["*"]
    assert "py.typed" in data["package-data"]["sparkner"]
    assert (REPO / "sparkner" / "py.typed").is_file()


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        (declare("a", "doc", TypeConverters.toBoolean), ("bool", "bool")),
        (declare("a", "doc", to_int, default=3), ("int", "int")),
        (declare("a", "doc", TypeConverters.toFloat), ("float", "float")),
        (declare("a", "doc", TypeConverters.toListString, default=[]), ("list[str]", "list[str]")),
        (declare("a", "doc", TypeConverters.toListInt), ("list[int]", "list[int]")),
        (declare("a", "doc", to_list_of(str.lower)), ("list[str]", "list[str]")),
        (declare("a", "doc", warn_unless(TypeConverters.toBoolean, True, "m")), ("bool", "bool")),
        (declare("a", "doc", no_effect(TypeConverters.toString, "m")), ("str", "str")),
        # bool() as the converter takes Spark NLP's levels too: setVerbose(0)
        (declare("a", "doc", bool, default=False), ("int", "bool")),
        # no annotation to read: the default's type, else Any
        (declare("a", "doc", lambda v: str(v).upper(), default="TEXT"), ("str", "str")),
        (declare("a", "doc", lambda v: v, default=["x", "y"]), ("list[str]", "list[str]")),
        (declare("a", "doc", lambda v: dict(v)), ("Any", "Any")),
        (declare("a", "doc"), ("Any", "Any")),
    ],
)
def test_value_types_come_from_the_converter_then_the_default(param, expected):
    assert stubgen.value_types(param) == expected
