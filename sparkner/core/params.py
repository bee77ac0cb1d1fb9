"""Params: declared once, checked wherever they are set, one default each, a getter each.

As in ``pyspark.ml.param.shared``, a param that several stages share is a mixin declared once
(:class:`HasStorageRef`, :class:`HasCaseSensitive`, ...). Unlike pyspark, every value check
lives in the param's type converter (:func:`declare`), so a bad value is refused the same
way through a setter, a constructor keyword, ``set()``, ``copy(extra)``, ``fit(df, params)``
or a loaded model. A param's default is declared with it, and :class:`SparknerParams` gives
every param a fluent ``setX`` and a ``getX`` unless the class writes its own. Those accessors
exist only at run time: the type stubs beside the modules that declare params spell them out
for type checkers and editors (regenerate them with ``python -m sparkner.apps.stubgen``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pyspark.ml.param import Param, Params, TypeConverters

if TYPE_CHECKING:
    from typing_extensions import Self

# A check returns what is wrong with a value ("must be at least 1"), or None if nothing is.
Check = Callable[[Any], str | None]
T = TypeVar("T")
_NO_DEFAULT = object()


class SparknerParam(Param[T]):
    """A :class:`~pyspark.ml.param.Param` that knows its own default (or has none), and the
    converter it was declared with (the stubs derive the value's type from it)."""

    default: Any = _NO_DEFAULT
    convert: Callable[[Any], Any] | None = None


def declare(
    name: str,
    doc: str,
    convert: Callable[[Any], Any] = TypeConverters.identity,
    check: Check | None = None,
    default: Any = _NO_DEFAULT,
) -> SparknerParam[Any]:
    """A param whose type converter converts the value, then checks it; the error names the
    param. ``default`` (if given) is set on every instance by :class:`SparknerParams`."""

    def converter(value: Any) -> Any:
        converted = convert(value)
        problem = check(converted) if check is not None else None
        if problem:
            raise ValueError(f"{name} {problem}, got {value!r}")
        return converted

    param: SparknerParam[Any] = SparknerParam(Params._dummy(), name, doc, typeConverter=converter)
    param.default = default
    param.convert = convert
    return param


# -- checks -------------------------------------------------------------------------------
def at_least(low: float) -> Check:
    return lambda value: None if value >= low else f"must be at least {low}"


def positive(value: float) -> str | None:
    return None if value > 0 else "must be positive"


def fraction(value: float) -> str | None:
    """In [0, 1): a rate or a share that cannot be all."""
    return None if 0 <= value < 1 else "must be in [0, 1)"


def non_empty(value: str) -> str | None:
    return None if value else "cannot be empty"


def one_of(choices: Sequence[str]) -> Check:
    return lambda value: None if value in choices else f"must be one of {tuple(choices)}"


def regular_expressions(values: Sequence[str]) -> str | None:
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            return f"holds {value!r}, which is not a valid regular expression ({exc})"
    return None


def no_empty_strings(values: Sequence[str]) -> str | None:
    return "cannot hold an empty string" if any(not v for v in values) else None


# -- converters -----------------------------------------------------------------------------
def to_int(value: Any) -> int:
    """An int, from an int or a float without a fraction (pyspark's toInt refuses 1.0)."""
    return TypeConverters.toInt(value)


def to_list_of(normalize: Callable[[str], str]) -> Callable[[Any], list[str]]:
    """A list of strings, each normalized (e.g. lower-cased), empty results dropped."""

    def convert(value: Any) -> list[str]:
        return [n for n in (normalize(v) for v in TypeConverters.toListString(value)) if n]

    return convert


_WARNED: set[str] = set()


def warn_once(message: str) -> None:
    """A :class:`UserWarning`, given once per process whatever the warnings filters say."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=4)


def warn_unless(convert: Callable[[Any], Any], expected: Any, message: str) -> Callable[[Any], Any]:
    """A converter that warns (once) when the value is not ``expected``: a Spark NLP param
    whose other values sparkner accepts but does not implement."""

    def converter(value: Any) -> Any:
        converted = convert(value)
        if converted != expected:
            warn_once(message)
        return converted

    converter.__wrapped__ = convert  # type: ignore[attr-defined]  # the stubs read the type
    return converter


def no_effect(convert: Callable[[Any], Any], message: str) -> Callable[[Any], Any]:
    """A converter that warns (once) whenever the param is set: a Spark NLP param that
    sparkner accepts so that code runs, and ignores."""
    return warn_unless(convert, _NO_DEFAULT, message)  # no value equals the sentinel


# -- the base of every sparkner stage's params ---------------------------------------------
class SparknerParams(Params):
    """Params with declared defaults, and a fluent setter and a getter for each param.

    ``stage_defaults`` holds the defaults a stage chooses for shared params (its input and
    output columns); everything else comes from the param's declaration. Keywords given to
    the constructor are set through the setters: ``Tokenizer(minLength=2)`` is
    ``Tokenizer().setMinLength(2)``. ``generated_accessors`` names, for each class, the
    accessors made for it here (method name: param name), which the stubs spell out.
    """

    stage_defaults: ClassVar[Mapping[str, Any]] = {}
    generated_accessors: ClassVar[Mapping[str, str]] = {}

    def __init__(self, **params: Any) -> None:
        super().__init__()
        declared = {
            p.name: p.default
            for p in self.params
            if isinstance(p, SparknerParam) and p.default is not _NO_DEFAULT
        }
        self._setDefault(**{**declared, **self.stage_defaults})
        unknown = sorted(name for name in params if not self.hasParam(name))
        if unknown:
            known = sorted(p.name for p in self.params)
            raise TypeError(f"{type(self).__name__} has no param {unknown}; its params: {known}")
        self.set_params_from(params)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        made: dict[str, str] = {}
        for name in dir(cls):
            param = getattr(cls, name, None)
            if isinstance(param, Param) and name == param.name:
                suffix = name[0].upper() + name[1:]
                if not hasattr(cls, f"get{suffix}"):
                    setattr(cls, f"get{suffix}", _getter(name, param.doc))
                    made[f"get{suffix}"] = name
                if not hasattr(cls, f"set{suffix}"):
                    setattr(cls, f"set{suffix}", _setter(name, param.doc))
                    made[f"set{suffix}"] = name
        cls.generated_accessors = made

    def set_params_from(self, kwargs: Mapping[str, Any]) -> Self:
        """Apply constructor keywords through the setters (None: keep the default)."""
        for name, value in kwargs.items():
            if value is not None:
                getattr(self, f"set{name[0].upper()}{name[1:]}")(value)
        return self


def _getter(name: str, doc: str) -> Callable[[Params], Any]:
    def get(self: Params) -> Any:
        return self.getOrDefault(name)

    get.__name__ = get.__qualname__ = f"get{name[0].upper()}{name[1:]}"
    get.__doc__ = f"The value of ``{name}``: {doc}."
    return get


def _setter(name: str, doc: str) -> Callable[[Params, Any], Any]:
    def set_value(self: Params, value: Any) -> Any:
        return self._set(**{name: value})

    set_value.__name__ = set_value.__qualname__ = f"set{name[0].upper()}{name[1:]}"
    set_value.__doc__ = f"Set ``{name}`` ({doc}); returns this stage."
    return set_value


# -- shared params --------------------------------------------------------------------------
class HasInputCols(SparknerParams):
    inputCols = declare("inputCols", "the input annotation columns", TypeConverters.toListString)

    def setInputCols(self, *value: str | Sequence[str]) -> Self:
        """The input columns: a list, or the names as arguments (as in Spark NLP)."""
        cols = list(value[0]) if len(value) == 1 and not isinstance(value[0], str) else value
        return self._set(inputCols=[str(c) for c in cols])


class HasInputCol(SparknerParams):
    inputCol = declare("inputCol", "the input text column", TypeConverters.toString, non_empty)


class HasOutputCol(SparknerParams):
    outputCol = declare(
        "outputCol", "the output annotation column", TypeConverters.toString, non_empty
    )


class HasStorageRef(SparknerParams):
    storageRef = declare(
        "storageRef",
        "the name of the word vectors; a stage trained on them checks it at transform()",
        TypeConverters.toString,
        non_empty,
    )


class HasCaseSensitive(SparknerParams):
    caseSensitive = declare(
        "caseSensitive",
        "whether lookup is exact only; otherwise exact, then lower case, then upper case",
        TypeConverters.toBoolean,
        default=False,
    )


class HasDimension(SparknerParams):
    dimension = declare(
        "dimension", "the vectors' dimension (checked against the vectors)", to_int, at_least(1)
    )


class HasMinLength(SparknerParams):
    minLength = declare(
        "minLength",
        "annotations shorter than this many characters are dropped",
        to_int,
        at_least(0),
        default=0,
    )


class HasMaxLength(SparknerParams):
    maxLength = declare(
        "maxLength",
        "annotations longer than this many characters are dropped (0: no limit)",
        to_int,
        at_least(0),
        default=0,
    )


class HasIncludeConfidence(SparknerParams):
    includeConfidence = declare(
        "includeConfidence",
        "whether each annotation carries its score as metadata 'confidence'",
        TypeConverters.toBoolean,
        default=False,
    )
