"""RegexMatcher / RegexMatcherModel: regular-expression rules over sentences, as ``chunk``
annotations (Spark NLP's ``RegexMatcher``, input document).

``setExternalRules(path, delimiter)`` reads ``pattern<delimiter>identifier`` lines when set
(so a saved stage keeps them; errors name the file and line), ``setRules([...])`` takes such
lines directly, ``setStrategy`` is ``MATCH_ALL`` (default), ``MATCH_FIRST`` or
``MATCH_COMPLETE``. Patterns are Java's, as in Spark NLP (``\\p{L}``, ``\\z`` work). See
:mod:`sparkner.text.regex_rules` for the chunks' metadata.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, overload

from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame

from sparkner.annotators.text_matcher import check_text_resource
from sparkner.core.annotation import CHUNK, DOCUMENT
from sparkner.core.params import declare, non_empty, one_of
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles
from sparkner.text.regex_rules import STRATEGIES, match_rules, parse_rule, read_rules

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap


class RegexMatcher(AnnotatorTransformer):
    """Finds the matches of regular-expression rules in sentences (input: document)."""

    input_roles = roles(document=DOCUMENT)
    output_annotator_type = CHUNK
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["document"],
        "outputCol": "regex",
    }

    rules = declare(
        "rules",
        "rules as 'pattern<delimiter>identifier' lines (Java regular expressions)",
        TypeConverters.toListString,
        default=[],
    )
    delimiter = declare(
        "delimiter",
        "what separates a rule's pattern from its identifier (the last one in the line)",
        TypeConverters.toString,
        non_empty,
        default=",",
    )
    externalRules = declare(
        "externalRules",
        "the file the rules were read from",
        TypeConverters.toString,
        non_empty,
    )
    strategy = declare(
        "strategy",
        "MATCH_ALL (every match), MATCH_FIRST (each rule's first) or MATCH_COMPLETE (a rule "
        "matching the whole sentence)",
        lambda v: TypeConverters.toString(v).strip().upper(),
        one_of(STRATEGIES),
        default="MATCH_ALL",
    )

    def setRules(self, value: list[str]) -> RegexMatcher:
        """The rules, each ``pattern<delimiter>identifier`` (checked now)."""
        rules = TypeConverters.toListString(value)
        delimiter = self.getOrDefault(self.delimiter)
        for i, rule in enumerate(rules):
            parse_rule(rule, delimiter, f"RegexMatcher.setRules: rule {i}")
        return self._set(rules=rules)

    def setExternalRules(
        self,
        path: str,
        delimiter: str = ",",
        read_as: str = "TEXT",
        options: dict[str, str] | None = None,
    ) -> RegexMatcher:
        """Read the rules of a UTF-8 file, one ``pattern<delimiter>identifier`` a line
        (Spark NLP's ``setExternalRules(path, delimiter)``)."""
        check_text_resource("setExternalRules", read_as, options)
        self._set(delimiter=delimiter)
        found = read_rules(path, delimiter)
        self._set(externalRules=str(path))
        return self._set(rules=found)

    def batch_function(self) -> BatchFunction:
        if not self.getOrDefault(self.rules):
            raise ValueError(
                f"{self._describe()}: no rules; call setRules or setExternalRules first"
            )
        return partial(
            match_rules,
            rules=tuple(self.getOrDefault(self.rules)),
            delimiter=self.getOrDefault(self.delimiter),
            strategy=self.getOrDefault(self.strategy),
        )

    @overload
    def fit(self, dataset: DataFrame, params: ParamMap | None = None) -> RegexMatcherModel: ...

    @overload
    def fit(
        self, dataset: DataFrame, params: list[ParamMap] | tuple[ParamMap, ...]
    ) -> list[RegexMatcherModel]: ...

    def fit(
        self,
        dataset: DataFrame,
        params: ParamMap | list[ParamMap] | tuple[ParamMap, ...] | None = None,
    ) -> RegexMatcherModel | list[RegexMatcherModel]:
        """A :class:`RegexMatcherModel` with these rules (Spark NLP's RegexMatcher is an
        estimator); a RegexMatcher also works as a transformer in a Pipeline."""
        if isinstance(params, list | tuple):
            return [self.fit(dataset, p) for p in params]
        stage = self.copy(params) if params else self
        stage.checked_inputs(dataset.schema)
        stage.batch_function()  # refuses a matcher without rules before any job
        return stage._copyValues(RegexMatcherModel())


class RegexMatcherModel(RegexMatcher):
    """A fitted RegexMatcher: the same rules."""
