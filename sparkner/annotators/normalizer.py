"""Normalizer / NormalizerModel: tokens cleaned up (Spark NLP's ``Normalizer``, token ->
token).

``setLowercase``, ``setCleanupPatterns`` (Java regular expressions removed from each token;
default ``[^\\pL+]``: everything but letters and "+"), ``setSlangDictionary(path, ",")``
(``word,replacement`` lines, read when set), ``setSlangMatchCase``, ``setMinLength``,
``setMaxLength``. As in Spark NLP, a normalized token keeps the original token's ``begin``
and ``end`` (its span in the text) while its ``result`` is the normalized form; tokens left
empty are dropped (see :mod:`sparkner.text.normalizing`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, overload

from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame

from sparkner.annotators.text_matcher import check_text_resource
from sparkner.core.annotation import TOKEN
from sparkner.core.params import HasMaxLength, HasMinLength, declare, non_empty
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles
from sparkner.text.java_regex import java_regex_problem
from sparkner.text.normalizing import (
    DEFAULT_CLEANUP_PATTERNS,
    NormalizerRules,
    normalize_tokens,
    read_slang,
    slang_pairs,
)

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap


class Normalizer(AnnotatorTransformer, HasMinLength, HasMaxLength):
    """Cleans up ``token`` annotations into ``token`` annotations (input: token)."""

    input_roles = roles(token=TOKEN)
    output_annotator_type = TOKEN
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCols": ["token"], "outputCol": "normalized"}

    cleanupPatterns = declare(
        "cleanupPatterns",
        "regular expressions (Java syntax) whose matches are removed from each token",
        TypeConverters.toListString,
        java_regex_problem,
        default=list(DEFAULT_CLEANUP_PATTERNS),
    )
    lowercase = declare(
        "lowercase",
        "whether tokens are lower-cased first",
        TypeConverters.toBoolean,
        default=False,
    )
    slangWords = declare(
        "slangWords",
        "the slang dictionary: word -> replacement (setSlangDictionary reads a file of them)",
        lambda v: {str(k): str(w) for k, w in dict(v).items()},
        default={},
    )
    slangDictionary = declare(
        "slangDictionary",
        "the file the slang dictionary was read from ('word,replacement' lines)",
        TypeConverters.toString,
        non_empty,
    )
    slangMatchCase = declare(
        "slangMatchCase",
        "whether slang words match only with the same letter case",
        TypeConverters.toBoolean,
        default=False,
    )

    def setSlangDictionary(
        self,
        path: str,
        delimiter: str = ",",
        read_as: str = "TEXT",
        options: dict[str, str] | None = None,
    ) -> Normalizer:
        """Read ``word<delimiter>replacement`` lines of a UTF-8 file (Spark NLP's
        ``setSlangDictionary(path, ",")``); errors name the file and line."""
        check_text_resource("setSlangDictionary", read_as, options)
        pairs = read_slang(path, delimiter)
        self._set(slangDictionary=str(path))
        return self.setSlangWords(dict(pairs))

    def rules(self) -> NormalizerRules:
        return NormalizerRules(
            cleanup_patterns=tuple(self.getOrDefault(self.cleanupPatterns)),
            lowercase=self.getOrDefault(self.lowercase),
            slang=slang_pairs(self.getOrDefault(self.slangWords)),
            slang_match_case=self.getOrDefault(self.slangMatchCase),
            min_length=self.getOrDefault(self.minLength),
            max_length=self.getOrDefault(self.maxLength),
        )

    def batch_function(self) -> BatchFunction:
        return partial(normalize_tokens, rules=self.rules())

    @overload
    def fit(self, dataset: DataFrame, params: ParamMap | None = None) -> NormalizerModel: ...

    @overload
    def fit(
        self, dataset: DataFrame, params: list[ParamMap] | tuple[ParamMap, ...]
    ) -> list[NormalizerModel]: ...

    def fit(
        self,
        dataset: DataFrame,
        params: ParamMap | list[ParamMap] | tuple[ParamMap, ...] | None = None,
    ) -> NormalizerModel | list[NormalizerModel]:
        """A :class:`NormalizerModel` with these params (Spark NLP's Normalizer is an
        estimator); a Normalizer also works as a transformer in a Pipeline."""
        if isinstance(params, list | tuple):
            return [self.fit(dataset, p) for p in params]
        stage = self.copy(params) if params else self
        stage.checked_inputs(dataset.schema)
        return stage._copyValues(NormalizerModel())


class NormalizerModel(Normalizer):
    """A fitted Normalizer: the same params and tokens."""
